using System.ComponentModel.DataAnnotations;

namespace BirbalAI.Documents;

/// <summary>Documents' limits (section "Documents"), checked at start-up. Each refusal names the setting it hit.</summary>
sealed class DocumentsOptions : IValidatableObject
{
    public const string Section = "Documents";
    public static readonly string[] KnownTypes = ["text", "markdown", "html", "pdf", "docx"];

    /// <summary>Bytes of one uploaded file (the upload endpoint's own limit, not Api:MaxRequestBodyBytes); then 413.</summary>
    [Range(1, 1024L * 1024 * 1024)] public long MaxUploadBytes { get; set; } = 10 * 1024 * 1024;

    /// <summary>Pages of a PDF; then 422.</summary>
    [Range(1, 100_000)] public int MaxPages { get; set; } = 200;

    /// <summary>Documents one person may keep; then 409.</summary>
    [Range(1, 1_000_000)] public int MaxDocumentsPerUser { get; set; } = 500;

    /// <summary>The types accepted (sniffed from the content): any of text, markdown, html, pdf, docx; others get 415.</summary>
    public string[] AllowedTypes { get; set; } = [.. KnownTypes];

    /// <summary>Characters of text extracted from one file; more is refused (422) rather than cut.</summary>
    [Range(1, 100_000_000)] public int MaxExtractedChars { get; set; } = 2_000_000;

    /// <summary>Uncompressed bytes per compressed byte a .docx may reach, over the whole archive; more looks like a zip bomb (422).</summary>
    [Range(2, 10_000)] public int MaxDecompressionRatio { get; set; } = 100;

    /// <summary>Uncompressed bytes of a .docx archive in all; more is refused (422).</summary>
    [Range(1024, 4L * 1024 * 1024 * 1024)] public long MaxDecompressedBytes { get; set; } = 100 * 1024 * 1024;

    /// <summary>Characters of a title (it defaults to the file name).</summary>
    [Range(1, 1000)] public int MaxTitleLength { get; set; } = 200;

    /// <summary>Characters of one chunk at most: paragraphs longer than this are split at sentence ends (a sentence longer still, at a space).</summary>
    [Range(50, 100_000)] public int MaxChunkChars { get; set; } = 1500;

    /// <summary>Chunks sent to the moderator in one call.</summary>
    [Range(1, 1024)] public int ModerationBatchSize { get; set; } = 32;

    /// <summary>Documents per page of the library and search results per page.</summary>
    [Range(1, 500)] public int PageSize { get; set; } = 50;

    /// <summary>
    /// Seconds between status checks of the library and document pages when they cannot open the live connection
    /// (/hubs/documents); while connected they never poll.
    /// </summary>
    [Range(1, 3600)] public int StatusPollSeconds { get; set; } = 15;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (AllowedTypes.Length == 0) yield return new ValidationResult("must name at least one type", [nameof(AllowedTypes)]);
        foreach (var t in AllowedTypes.Where(t => !KnownTypes.Contains(t)))
            yield return new ValidationResult($"'{t}' is not a type Documents reads ({string.Join(", ", KnownTypes)})", [nameof(AllowedTypes)]);
    }
}
