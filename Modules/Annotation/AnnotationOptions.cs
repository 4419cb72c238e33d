using System.ComponentModel.DataAnnotations;

namespace BirbalAI.Annotation;

/// <summary>The review workspace's settings and limits (section "Annotation"), checked at start-up.</summary>
sealed class AnnotationOptions : IValidatableObject
{
    public const string Section = "Annotation";

    /// <summary>Seconds a submitted label or decision can be undone (U) before it is published; 0 publishes at once.</summary>
    [Range(0, 600)] public int UndoSeconds { get; set; } = 10;

    /// <summary>How often the publisher looks for labels whose undo window has passed (milliseconds).</summary>
    [Range(10, 60_000)] public int PublishIntervalMs { get; set; } = 500;

    /// <summary>Severe categories, comma-separated; "x/*" names x and its subcategories, "*/y" every y subcategory. Blurred until revealed.</summary>
    [Required] public string SevereCategories { get; set; } = "sexual/minors,violence/graphic,self-harm/*,*/threatening";

    /// <summary>Severe items one reviewer may reveal per day (UTC); past it the queue serves other work and says why.</summary>
    [Range(0, 100_000)] public int DailySevereReveals { get; set; } = 100;

    /// <summary>Minutes a reserved task stays with its annotator before it goes back to the queue (labelling projects' default).</summary>
    [Range(1, 24 * 60)] public int ReservationMinutes { get; set; } = 15;

    /// <summary>Annotators who label each task of the "Active learning" project (made with it when Ml first proposes tasks).</summary>
    [Range(1, 20)] public int ActiveLearningOverlap { get; set; } = 2;

    /// <summary>Open tasks the queue counts for the progress it shows with every task (more show as "N+"): counting 100,000 each time would cost more than serving the task.</summary>
    [Range(100, 10_000_000)] public int ProgressCountLimit { get; set; } = 10_000;

    /// <summary>Messages before a chat message shown as its context.</summary>
    [Range(0, 20)] public int ContextMessages { get; set; } = 3;

    /// <summary>Messages read from Chat per page when backfilling held and flagged messages.</summary>
    [Range(1, 10_000)] public int BackfillPageSize { get; set; } = 500;

    /// <summary>Characters of a note on a label.</summary>
    [Range(1, 10_000)] public int MaxNoteLength { get; set; } = 1000;

    /// <summary>Characters of a skip reason.</summary>
    [Range(1, 1000)] public int MaxSkipReasonLength { get; set; } = 200;

    /// <summary>Rows one import may have (the body is also capped by Api:MaxRequestBodyBytes).</summary>
    [Range(1, 1_000_000)] public int MaxImportRows { get; set; } = 10_000;

    /// <summary>Bytes of one import file (the body is also capped by Api:MaxRequestBodyBytes: raise both for larger files).</summary>
    [Range(1024, 1024L * 1024 * 1024)] public long MaxImportBytes { get; set; } = 1024 * 1024;

    /// <summary>Import files larger than this (bytes) run as a Hangfire job with progress on the project page; smaller ones at once.</summary>
    [Range(0, 1024L * 1024 * 1024)] public long ImportJobThresholdBytes { get; set; } = 256 * 1024;

    /// <summary>Attempts a large import's job makes when it fails (an error, or its worker stopping before it finished); after the last the import is failed with the reason.</summary>
    [Range(1, 20)] public int ImportJobAttempts { get; set; } = 3;

    /// <summary>Seconds before a failed import job tries again (0: at once).</summary>
    [Range(0, 24 * 60 * 60)] public int ImportJobRetrySeconds { get; set; } = 60;

    /// <summary>Characters of one imported item's text.</summary>
    [Range(1, 100_000)] public int MaxItemLength { get; set; } = 20_000;

    /// <summary>Categories one project's schema may have (the moderation ones and admins' extras).</summary>
    [Range(1, 200)] public int MaxCategories { get; set; } = 60;

    public IReadOnlyList<string> SeverePatterns => SevereCategories.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);

    /// <summary>Whether <paramref name="category"/> is severe under <paramref name="patterns"/>.</summary>
    public static bool IsSevere(string category, IEnumerable<string> patterns) => patterns.Any(p =>
        p.EndsWith("/*", StringComparison.Ordinal) ? category == p[..^2] || category.StartsWith(p[..^1], StringComparison.Ordinal)
        : p.StartsWith("*/", StringComparison.Ordinal) ? category.EndsWith(p[1..], StringComparison.Ordinal)
        : category == p);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (SeverePatterns.Any(p => p.Trim('*', '/').Length == 0 || p.Count(c => c == '*') > 1))
            yield return new ValidationResult("each entry is a category, \"x/*\" or \"*/y\"", [nameof(SevereCategories)]);
        if (ImportJobThresholdBytes > MaxImportBytes)
            yield return new ValidationResult("at most MaxImportBytes (a larger threshold would never be reached)", [nameof(ImportJobThresholdBytes)]);
    }
}
