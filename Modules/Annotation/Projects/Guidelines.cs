using Ganss.Xss;
using Markdig;

namespace BirbalAI.Annotation.Projects;

/// <summary>
/// Project guidelines: Markdown (the moderation project starts with the product's LABELLING.md, committed in this module)
/// shown as HTML that is safe to show — Markdig with raw HTML disabled, then HtmlSanitizer, as Chat renders messages.
/// </summary>
sealed class Guidelines
{
    /// <summary>The labelling guidelines of the product (LABELLING.md), embedded in this assembly.</summary>
    public static string Labelling { get; } = Read();

    static readonly MarkdownPipeline Pipeline = new MarkdownPipelineBuilder().DisableHtml().UseAutoLinks().UsePipeTables().UseEmphasisExtras().Build();

    readonly HtmlSanitizer sanitizer = new(new HtmlSanitizerOptions
    {
        AllowedTags = new HashSet<string>(["p", "br", "strong", "em", "del", "code", "pre", "blockquote", "ul", "ol", "li", "a", "h1", "h2", "h3", "h4",
            "table", "thead", "tbody", "tr", "th", "td"], StringComparer.OrdinalIgnoreCase),
        AllowedAttributes = new HashSet<string>(["href", "title"], StringComparer.OrdinalIgnoreCase),
        AllowedSchemes = new HashSet<string>(["http", "https", "mailto"], StringComparer.OrdinalIgnoreCase),
        UriAttributes = new HashSet<string>(["href"], StringComparer.OrdinalIgnoreCase),
    });

    public string ToHtml(string markdown) => sanitizer.Sanitize(Markdown.ToHtml(markdown, Pipeline)).Trim();

    static string Read()
    {
        using var stream = typeof(Guidelines).Assembly.GetManifestResourceStream("BirbalAI.Annotation.LABELLING.md")
            ?? throw new InvalidOperationException("LABELLING.md is not embedded in BirbalAI.Annotation");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
