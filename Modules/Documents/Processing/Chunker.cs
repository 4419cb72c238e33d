using System.Text.RegularExpressions;

namespace BirbalAI.Documents.Processing;

/// <summary>A piece of a document's text: its place in the extracted text (UTF-16 offset and length) and the text itself.</summary>
sealed record Chunk(int Ordinal, int Start, int Length, string Text);

/// <summary>
/// Cuts extracted text into chunks a reviewer can judge alone: one per paragraph (a blank line apart); a paragraph longer
/// than the limit is cut after the last sentence end that fits (". ", "! ", "? ", or their CJK forms), or failing that
/// the last space, or failing that at the limit. Every chunk is a span of the text as given: offsets always point back.
/// </summary>
static class Chunker
{
    static readonly Regex ParagraphBreak = new(@"\n[ \t]*\n", RegexOptions.Compiled);
    static readonly Regex SentenceEnd = new(@"[.!?…。！？](?=\s)|[。！？]", RegexOptions.Compiled);

    public static IReadOnlyList<Chunk> Split(string text, int maxChars)
    {
        var chunks = new List<Chunk>();
        var at = 0;
        foreach (var separator in ParagraphBreak.Matches(text).Cast<Match?>().Append(null))
        {
            var end = separator?.Index ?? text.Length;
            Paragraph(text, at, end, maxChars, chunks);
            if (separator is not null) at = separator.Index + separator.Length;
        }
        return chunks;
    }

    static void Paragraph(string text, int start, int end, int maxChars, List<Chunk> chunks)
    {
        while (start < end && char.IsWhiteSpace(text[start])) start++;
        while (end > start && char.IsWhiteSpace(text[end - 1])) end--;
        while (start < end)
        {
            var take = end - start;
            if (take > maxChars)
            {
                var window = text.Substring(start, maxChars);
                var sentence = SentenceEnd.Matches(window).LastOrDefault();
                var space = window.LastIndexOf(' ');
                take = sentence is { } s && s.Index + s.Length >= maxChars / 4 ? s.Index + s.Length
                    : space >= maxChars / 4 ? space
                    : maxChars;
                if (char.IsHighSurrogate(text[start + take - 1])) take--;   // never split a character
            }
            var piece = text.Substring(start, take);
            var trimmed = piece.TrimEnd();
            if (trimmed.Length > 0) chunks.Add(new Chunk(chunks.Count, start, trimmed.Length, trimmed));
            start += take;
            while (start < end && char.IsWhiteSpace(text[start])) start++;
        }
    }
}
