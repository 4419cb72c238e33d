using System.Text;

namespace BirbalAI.Ml.WatchedWords;

/// <summary>
/// Watched words as CSV (RFC 4180: comma-separated, fields with commas, quotes or line breaks in double quotes),
/// header <c>id,pattern,kind,action,replacement,category,language,whole_word</c>. On import an empty id makes a new
/// entry and a known one keeps its identity; rows are numbered as lines of the file (the header is row 1).
/// </summary>
static class WatchedWordCsv
{
    public static readonly string[] Header = ["id", "pattern", "kind", "action", "replacement", "category", "language", "whole_word"];

    public static string Write(IEnumerable<WatchedWord> entries)
    {
        var sb = new StringBuilder();
        sb.Append(string.Join(',', Header)).Append("\r\n");
        foreach (var e in entries)
            sb.Append(string.Join(',', new[] { e.Id.ToString(), e.Pattern, e.Kind, e.Action, e.Replacement ?? "", e.Category ?? "", e.Language ?? "", e.WholeWord ? "true" : "false" }.Select(Quote)))
              .Append("\r\n");
        return sb.ToString();
    }

    static string Quote(string field) =>
        field.AsSpan().IndexOfAny(",\"\r\n") >= 0 || field.StartsWith(' ') || field.EndsWith(' ') ? $"\"{field.Replace("\"", "\"\"")}\"" : field;

    /// <summary>The entries of <paramref name="csv"/> with the file row of each, or every problem found (row by row).</summary>
    public static (List<(int Row, WatchedWord Entry)> Entries, List<string> Errors) Read(string csv)
    {
        var entries = new List<(int, WatchedWord)>();
        var errors = new List<string>();
        var rows = Parse(csv, errors);
        if (errors.Count > 0) return (entries, errors);
        if (rows.Count == 0) return (entries, ["the file is empty: the first row must be the header " + string.Join(',', Header)]);
        var header = rows[0].Fields.Select(h => h.Trim().ToLowerInvariant()).ToArray();
        var index = Header.ToDictionary(h => h, h => Array.IndexOf(header, h));
        foreach (var required in new[] { "pattern", "kind", "action" })
            if (index[required] < 0) errors.Add($"row 1: the header has no '{required}' column (expected {string.Join(',', Header)})");
        if (errors.Count > 0) return (entries, errors);
        foreach (var (line, fields) in rows.Skip(1))
        {
            if (fields.Count == 1 && fields[0].Length == 0) continue;   // a blank line
            if (fields.Count != header.Length)
            {
                errors.Add($"row {line}: {fields.Count} fields, the header has {header.Length}");
                continue;
            }
            string? Field(string name) => index[name] < 0 || fields[index[name]].Length == 0 ? null : fields[index[name]];
            var id = Guid.Empty;
            if (Field("id") is { } text && !Guid.TryParse(text, out id))
            {
                errors.Add($"row {line}: id: '{text}' is not an id (leave it empty for a new entry)");
                continue;
            }
            var wholeWord = true;
            if (Field("whole_word") is { } flag && !bool.TryParse(flag, out wholeWord))
            {
                errors.Add($"row {line}: whole_word: '{flag}' is neither true nor false");
                continue;
            }
            entries.Add((line, new WatchedWord(id == Guid.Empty ? Guid.CreateVersion7() : id, Field("pattern") ?? "", (Field("kind") ?? "").Trim().ToLowerInvariant(),
                (Field("action") ?? "").Trim().ToLowerInvariant(), Field("replacement"), Field("category")?.Trim(), Field("language")?.Trim(), wholeWord)));
        }
        foreach (var duplicate in entries.GroupBy(e => e.Item2.Id).Where(g => g.Count() > 1))
            errors.Add($"row {duplicate.Skip(1).First().Item1}: id {duplicate.Key} is already on row {duplicate.First().Item1}");
        return (entries, errors);
    }

    /// <summary>Rows with the line each starts on.</summary>
    static List<(int Line, List<string> Fields)> Parse(string csv, List<string> errors)
    {
        var rows = new List<(int, List<string>)>();
        var fields = new List<string>();
        var field = new StringBuilder();
        int line = 1, rowLine = 1;
        var quoted = false;
        var i = csv.Length > 0 && csv[0] == '\uFEFF' ? 1 : 0;
        var any = false;
        for (; i < csv.Length; i++)
        {
            var c = csv[i];
            any = true;
            if (quoted)
            {
                if (c == '"' && i + 1 < csv.Length && csv[i + 1] == '"') { field.Append('"'); i++; }
                else if (c == '"') quoted = false;
                else
                {
                    if (c == '\n') line++;
                    field.Append(c);
                }
                continue;
            }
            switch (c)
            {
                case '"' when field.Length == 0: quoted = true; break;
                case ',': fields.Add(field.ToString()); field.Clear(); break;
                case '\r': break;
                case '\n':
                    fields.Add(field.ToString());
                    field.Clear();
                    rows.Add((rowLine, fields));
                    fields = [];
                    line++;
                    rowLine = line;
                    any = false;
                    break;
                default: field.Append(c); break;
            }
        }
        if (quoted) errors.Add($"row {rowLine}: a quoted field is never closed");
        if (any || fields.Count > 0)
        {
            fields.Add(field.ToString());
            rows.Add((rowLine, fields));
        }
        return rows;
    }
}
