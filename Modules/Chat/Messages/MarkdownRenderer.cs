using Ganss.Xss;
using Markdig;

namespace BirbalAI.Chat.Messages;

/// <summary>
/// Message Markdown to HTML that is safe to show: Markdig with raw HTML disabled, then HtmlSanitizer with a
/// short list of tags and http(s)/mailto links only. No script, style, event handler or raw HTML survives.
/// </summary>
sealed class MarkdownRenderer
{
    static readonly MarkdownPipeline Pipeline = new MarkdownPipelineBuilder().DisableHtml().UseAutoLinks().UseEmphasisExtras().Build();

    readonly HtmlSanitizer sanitizer = new(new HtmlSanitizerOptions
    {
        AllowedTags = new HashSet<string>(["p", "br", "strong", "em", "del", "code", "pre", "blockquote", "ul", "ol", "li", "a"], StringComparer.OrdinalIgnoreCase),
        AllowedAttributes = new HashSet<string>(["href", "title"], StringComparer.OrdinalIgnoreCase),
        AllowedSchemes = new HashSet<string>(["http", "https", "mailto"], StringComparer.OrdinalIgnoreCase),
        UriAttributes = new HashSet<string>(["href"], StringComparer.OrdinalIgnoreCase),
    });

    public MarkdownRenderer() => sanitizer.PostProcessNode += (_, e) =>
    {
        if (e.Node is AngleSharp.Html.Dom.IHtmlAnchorElement link) link.SetAttribute("rel", "nofollow noopener noreferrer");
    };

    public string ToHtml(string markdown) => sanitizer.Sanitize(Markdown.ToHtml(markdown, Pipeline)).Trim();
}
