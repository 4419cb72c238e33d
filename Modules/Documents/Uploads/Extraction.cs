using System.IO.Compression;
using System.Text;
using System.Text.RegularExpressions;
using AngleSharp.Dom;
using AngleSharp.Html.Parser;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Wordprocessing;
using Ganss.Xss;
using Markdig;
using UglyToad.PdfPig;

namespace BirbalAI.Documents.Uploads;

/// <summary>A file that cannot be taken: the HTTP status, and why (naming the setting when a limit refused it).</summary>
sealed class RefusedFileException(int status, string reason) : Exception(reason)
{
    public int Status { get; } = status;
}

/// <summary>What was read from a file: its type (sniffed), its text (paragraphs apart by a blank line), pages, and a note ("no extractable text").</summary>
sealed record Extracted(string Type, string Text, int? Pages, string? Note);

/// <summary>
/// The type of a file from its bytes alone (never its name or Content-Type): "%PDF-" is a PDF; a zip holding
/// word/document.xml is a .docx; valid UTF-8 without NUL bytes is text — HTML when it opens with a doctype or an html/head/body
/// tag (or is mostly tags), Markdown when it uses Markdown's block or link syntax, else plain text. Anything else is unknown.
/// </summary>
static class FileSniffer
{
    static readonly Regex HtmlStart = new(@"^\s*(<!--.*?-->\s*)*(<!doctype\s+html|<html[\s>]|<head[\s>]|<body[\s>])", RegexOptions.IgnoreCase | RegexOptions.Singleline | RegexOptions.Compiled);
    static readonly Regex HtmlTags = new(@"</?(p|div|span|a|h[1-6]|ul|ol|li|table|script|style|br|img|em|strong)\b[^>]*>", RegexOptions.IgnoreCase | RegexOptions.Compiled);
    static readonly Regex MarkdownSyntax = new(@"(^|\n)(#{1,6} \S|[-*+] \S|\d+\. \S|> \S|```)|\[[^\]\n]+\]\([^)\s]+\)|\*\*[^*\n]+\*\*", RegexOptions.Compiled);

    public static string? Sniff(ReadOnlySpan<byte> bytes, out string? text)
    {
        text = null;
        if (bytes.StartsWith("%PDF-"u8)) return "pdf";
        if (bytes.StartsWith("PK\x03\x04"u8)) return "zip";   // a .docx, or some other archive: told apart when opened
        if (bytes.IndexOf((byte)0) >= 0) return null;
        try { text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes.StartsWith("\xEF\xBB\xBF"u8) ? bytes[3..] : bytes); }
        catch (DecoderFallbackException) { return null; }
        if (HtmlStart.IsMatch(text) || HtmlTags.Matches(text).Count >= 3) return "html";
        return MarkdownSyntax.IsMatch(text) ? "markdown" : "text";
    }
}

/// <summary>Reads the text of an accepted type, within the configured limits; a corrupt, encrypted or bomb-like file is refused.</summary>
sealed class Extraction(Microsoft.Extensions.Options.IOptions<DocumentsOptions> options)
{
    static readonly MarkdownPipeline Markdown = new MarkdownPipelineBuilder().DisableHtml().UseEmphasisExtras().Build();
    static readonly HashSet<string> Blocks = new(["p", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "blockquote", "tr", "td", "th", "dt", "dd", "section", "article", "br", "hr"], StringComparer.OrdinalIgnoreCase);

    // Script, style and every element outside this list are dropped with their content (HtmlSanitizer's default for script and style).
    readonly HtmlSanitizer sanitizer = new(new HtmlSanitizerOptions
    {
        AllowedTags = new HashSet<string>(["p", "br", "hr", "div", "span", "strong", "em", "b", "i", "u", "del", "code", "pre", "blockquote", "ul", "ol", "li", "a",
            "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "td", "th", "dl", "dt", "dd", "section", "article", "main", "header", "footer", "body", "html"], StringComparer.OrdinalIgnoreCase),
        AllowedAttributes = new HashSet<string>(StringComparer.OrdinalIgnoreCase),
        AllowedSchemes = new HashSet<string>(["http", "https"], StringComparer.OrdinalIgnoreCase),
    });

    public Extracted Extract(byte[] bytes)
    {
        var o = options.Value;
        var type = FileSniffer.Sniff(bytes, out var text);
        if (type == "zip") type = IsDocx(bytes) ? "docx" : null;
        if (type is null)
            throw new RefusedFileException(415, $"This file is none of the types Documents reads (judged from its content, not its name): {string.Join(", ", o.AllowedTypes)} (Documents:AllowedTypes).");
        if (!o.AllowedTypes.Contains(type))
            throw new RefusedFileException(415, $"The file is {type}, which this installation does not accept: {string.Join(", ", o.AllowedTypes)} (Documents:AllowedTypes).");
        var extracted = type switch
        {
            "text" => new Extracted(type, Paragraphs(text!), null, null),
            "markdown" => new Extracted(type, HtmlToText(Markdig.Markdown.ToHtml(text!, Markdown)), null, null),
            "html" => new Extracted(type, HtmlToText(text!), null, null),
            "pdf" => Pdf(bytes),
            _ => Docx(bytes),
        };
        if (extracted.Text.Length > o.MaxExtractedChars)
            throw new RefusedFileException(422, $"The file holds {extracted.Text.Length} characters of text; the limit is {o.MaxExtractedChars} (Documents:MaxExtractedChars).");
        return extracted.Text.Length == 0 && extracted.Note is null ? extracted with { Note = "no extractable text" } : extracted;
    }

    /// <summary>Sanitised first (scripts, styles, handlers and unknown elements gone), then its text with a blank line between blocks.</summary>
    string HtmlToText(string html)
    {
        var safe = sanitizer.Sanitize(html);
        var document = new HtmlParser().ParseDocument($"<body>{safe}</body>");
        var text = new StringBuilder();
        void Walk(INode node)
        {
            foreach (var child in node.ChildNodes)
            {
                if (child is IText t) text.Append(t.Data);
                else if (child is IElement e)
                {
                    var block = Blocks.Contains(e.LocalName);
                    if (block) text.Append("\n\n");
                    Walk(e);
                    if (block) text.Append("\n\n");
                }
            }
        }
        Walk(document.Body!);
        return Paragraphs(System.Net.WebUtility.HtmlDecode(text.ToString()));
    }

    /// <summary>Paragraphs trimmed and apart by exactly one blank line; spaces inside a paragraph collapsed.</summary>
    internal static string Paragraphs(string text) => string.Join("\n\n",
        Regex.Split(text.Replace("\r\n", "\n").Replace('\r', '\n'), @"\n[ \t]*\n")
            .Select(p => Regex.Replace(p, @"[ \t\f\v]+", " ").Replace(" \n", "\n").Replace("\n ", "\n").Trim())
            .Where(p => p.Length > 0));

    Extracted Pdf(byte[] bytes)
    {
        var o = options.Value;
        try
        {
            using var pdf = PdfDocument.Open(bytes);
            if (pdf.IsEncrypted) throw new RefusedFileException(422, "The PDF is encrypted: Documents takes only unencrypted files, so it can check their text. Nothing was stored.");
            if (pdf.NumberOfPages > o.MaxPages)
                throw new RefusedFileException(422, $"The PDF has {pdf.NumberOfPages} pages; the limit is {o.MaxPages} (Documents:MaxPages). Nothing was stored.");
            var pages = new List<string>();
            foreach (var page in pdf.GetPages())
                pages.Add(Paragraphs(UglyToad.PdfPig.DocumentLayoutAnalysis.TextExtractor.ContentOrderTextExtractor.GetText(page)));
            var text = string.Join("\n\n", pages.Where(p => p.Length > 0));
            return new Extracted("pdf", text, pdf.NumberOfPages, text.Length == 0 ? "no extractable text" : null);
        }
        catch (RefusedFileException) { throw; }
        catch (Exception e) when (e.GetType().Name.Contains("Encrypted", StringComparison.Ordinal))
        {
            throw new RefusedFileException(422, "The PDF is encrypted: Documents takes only unencrypted files, so it can check their text. Nothing was stored.");
        }
        catch (Exception e)
        {
            throw new RefusedFileException(422, $"The PDF cannot be read (damaged or not really a PDF): {e.Message} Nothing was stored.");
        }
    }

    /// <summary>A zip with word/document.xml; its sizes are checked against the limits before anything is decompressed.</summary>
    bool IsDocx(byte[] bytes)
    {
        var o = options.Value;
        try
        {
            using var zip = new ZipArchive(new MemoryStream(bytes), ZipArchiveMode.Read);
            if (zip.GetEntry("word/document.xml") is null) return false;
            long compressed = 0, uncompressed = 0;
            foreach (var entry in zip.Entries)
            {
                compressed += entry.CompressedLength;
                uncompressed += entry.Length;
            }
            if (uncompressed > o.MaxDecompressedBytes)
                throw new RefusedFileException(422, $"The .docx would unpack to {uncompressed} bytes; the limit is {o.MaxDecompressedBytes} (Documents:MaxDecompressedBytes). Nothing was stored.");
            if (uncompressed > (long)o.MaxDecompressionRatio * Math.Max(1, compressed))
                throw new RefusedFileException(422, $"The .docx unpacks {uncompressed / Math.Max(1, compressed)} times its size, like a zip bomb; the limit is {o.MaxDecompressionRatio} (Documents:MaxDecompressionRatio). Nothing was stored.");
            return true;
        }
        catch (InvalidDataException) { return false; }
    }

    Extracted Docx(byte[] bytes)
    {
        try
        {
            using var word = WordprocessingDocument.Open(new MemoryStream(bytes), false);
            var body = word.MainDocumentPart?.Document?.Body;
            var paragraphs = body?.Descendants<Paragraph>().Select(p => p.InnerText) ?? [];
            var text = Paragraphs(string.Join("\n\n", paragraphs));
            return new Extracted("docx", text, null, text.Length == 0 ? "no extractable text" : null);
        }
        catch (Exception e) when (e is not RefusedFileException)
        {
            throw new RefusedFileException(422, $"The .docx cannot be read (damaged or not really a Word document): {e.Message} Nothing was stored.");
        }
    }
}
