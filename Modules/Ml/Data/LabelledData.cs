using System.Globalization;
using System.Text;
using System.Text.Json;

namespace BirbalAI.Ml.Data;

/// <summary>One labelled text; <see cref="Group"/> keeps related examples (one template) on one side of a split.</summary>
sealed record LabelledText(string Text, IReadOnlyList<string> Labels, string? Group = null, string? Language = null);

/// <summary>A file that cannot be read; every bad row is listed with its line number.</summary>
sealed class DataFileException(string path, IReadOnlyList<string> errors)
    : Exception($"{path}: {errors.Count} bad row(s): " + string.Join("; ", errors.Take(20)) + (errors.Count > 20 ? "; …" : ""))
{
    public IReadOnlyList<string> Errors { get; } = errors;
}

/// <summary>
/// Reads labelled data: JSONL (<c>{"text": "...", "labels": ["hate", ...]}</c>, an empty list = benign) or CSV
/// (a <c>text</c> column and one 0/1 column per category). Unknown categories, missing text and malformed
/// rows are reported by line number; nothing is returned unless every row is good.
/// </summary>
static class LabelledData
{
    public const int MaxTextLength = 20_000;

    public static IReadOnlyList<LabelledText> Read(string path, IReadOnlyList<string> categories)
    {
        if (!File.Exists(path)) throw new DataFileException(path, ["no such file"]);
        var lines = File.ReadAllLines(path, Encoding.UTF8);
        return path.EndsWith(".csv", StringComparison.OrdinalIgnoreCase) ? ReadCsv(path, lines, categories) : ReadJsonl(path, lines, categories);
    }

    static IReadOnlyList<LabelledText> ReadJsonl(string path, string[] lines, IReadOnlyList<string> categories)
    {
        var known = categories.ToHashSet(StringComparer.Ordinal);
        var rows = new List<LabelledText>();
        var errors = new List<string>();
        for (var i = 0; i < lines.Length; i++)
        {
            if (string.IsNullOrWhiteSpace(lines[i])) continue;
            var line = i + 1;
            try
            {
                using var json = JsonDocument.Parse(lines[i]);
                var root = json.RootElement;
                if (root.ValueKind != JsonValueKind.Object) { errors.Add($"line {line}: not a JSON object"); continue; }
                if (!root.TryGetProperty("text", out var textElement) || textElement.ValueKind != JsonValueKind.String || textElement.GetString()!.Trim().Length == 0)
                { errors.Add($"line {line}: \"text\" must be a non-empty string"); continue; }
                var text = textElement.GetString()!;
                if (text.Length > MaxTextLength) { errors.Add($"line {line}: text longer than {MaxTextLength} characters"); continue; }
                if (!root.TryGetProperty("labels", out var labelsElement) || labelsElement.ValueKind != JsonValueKind.Array)
                { errors.Add($"line {line}: \"labels\" must be a list (empty for benign)"); continue; }
                var labels = new List<string>();
                var bad = false;
                foreach (var label in labelsElement.EnumerateArray())
                {
                    if (label.ValueKind != JsonValueKind.String || !known.Contains(label.GetString()!))
                    {
                        errors.Add($"line {line}: unknown category {label.GetRawText()}");
                        bad = true;
                    }
                    else labels.Add(label.GetString()!);
                }
                if (bad) continue;
                rows.Add(new LabelledText(text, labels.Distinct().ToList(),
                    root.TryGetProperty("group", out var group) && group.ValueKind == JsonValueKind.String ? group.GetString() : null,
                    root.TryGetProperty("language", out var lang) && lang.ValueKind == JsonValueKind.String ? lang.GetString() : null));
            }
            catch (JsonException e)
            {
                errors.Add($"line {line}: not valid JSON ({e.Message.Split('.')[0]})");
            }
        }
        if (rows.Count == 0 && errors.Count == 0) errors.Add("the file has no rows");
        return errors.Count > 0 ? throw new DataFileException(path, errors) : rows;
    }

    static IReadOnlyList<LabelledText> ReadCsv(string path, string[] lines, IReadOnlyList<string> categories)
    {
        var errors = new List<string>();
        var records = Csv.Parse(lines).ToList();
        if (records.Count == 0) throw new DataFileException(path, ["the file has no header"]);
        var (headerLine, header) = records[0];
        var textColumn = Array.IndexOf(header, "text");
        if (textColumn < 0) throw new DataFileException(path, [$"line {headerLine}: no \"text\" column"]);
        var columns = header.Select((name, index) => (name, index)).Where(c => c.index != textColumn).ToList();
        foreach (var unknown in columns.Where(c => !categories.Contains(c.name) && c.name is not ("group" or "language")))
            errors.Add($"line {headerLine}: unknown category column \"{unknown.name}\"");
        var rows = new List<LabelledText>();
        foreach (var (line, cells) in records.Skip(1))
        {
            if (cells.Length != header.Length) { errors.Add($"line {line}: {cells.Length} cells, the header has {header.Length}"); continue; }
            var text = cells[textColumn];
            if (text.Trim().Length == 0) { errors.Add($"line {line}: empty text"); continue; }
            if (text.Length > MaxTextLength) { errors.Add($"line {line}: text longer than {MaxTextLength} characters"); continue; }
            var labels = new List<string>();
            foreach (var (name, index) in columns.Where(c => categories.Contains(c.name)))
            {
                if (cells[index] is "1") labels.Add(name);
                else if (cells[index] is not ("0" or "")) errors.Add($"line {line}: column \"{name}\" must be 0 or 1, not \"{cells[index]}\"");
            }
            string? Cell(string name) => Array.IndexOf(header, name) is var i and >= 0 && cells[i].Length > 0 ? cells[i] : null;
            rows.Add(new LabelledText(text, labels, Cell("group"), Cell("language")));
        }
        if (rows.Count == 0 && errors.Count == 0) errors.Add("the file has no rows");
        return errors.Count > 0 ? throw new DataFileException(path, errors) : rows;
    }

    /// <summary>RFC 4180 CSV: quoted fields may hold commas, doubled quotes and line breaks.</summary>
    static class Csv
    {
        public static IEnumerable<(int Line, string[] Cells)> Parse(string[] lines)
        {
            var cells = new List<string>();
            var cell = new StringBuilder();
            var quoted = false;
            var start = 0;
            for (var i = 0; i < lines.Length; i++)
            {
                if (!quoted) { start = i + 1; if (lines[i].Length == 0) continue; }
                var l = lines[i];
                for (var j = 0; j < l.Length; j++)
                {
                    var c = l[j];
                    if (quoted)
                    {
                        if (c == '"' && j + 1 < l.Length && l[j + 1] == '"') { cell.Append('"'); j++; }
                        else if (c == '"') quoted = false;
                        else cell.Append(c);
                    }
                    else if (c == '"' && cell.Length == 0) quoted = true;
                    else if (c == ',') { cells.Add(cell.ToString()); cell.Clear(); }
                    else cell.Append(c);
                }
                if (quoted) { cell.Append('\n'); continue; }
                cells.Add(cell.ToString());
                cell.Clear();
                yield return (start, cells.ToArray());
                cells.Clear();
            }
            if (quoted) yield return (start, [.. cells, cell.ToString()]);
        }
    }

    /// <summary>A stable hash of the data, recorded with each model version.</summary>
    public static string Hash(IEnumerable<LabelledText> rows)
    {
        using var sha = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        foreach (var row in rows)
            sha.AppendData(Encoding.UTF8.GetBytes(row.Text + "\u0001" + string.Join(",", row.Labels.Order(StringComparer.Ordinal)) + "\u0002"));
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    /// <summary>
    /// Splits off about <paramref name="fraction"/> for testing, by group when rows have groups (so no
    /// template is on both sides), else by row; deterministic for a seed.
    /// </summary>
    public static (List<LabelledText> Train, List<LabelledText> Test) Split(IReadOnlyList<LabelledText> rows, double fraction, int seed)
    {
        var (train, test) = SplitIndices(rows, fraction, seed);
        return ([.. train.Select(i => rows[i])], [.. test.Select(i => rows[i])]);
    }

    /// <summary>As <see cref="Split"/>, as row indices (in row order on each side).</summary>
    public static (int[] Train, int[] Test) SplitIndices(IReadOnlyList<LabelledText> rows, double fraction, int seed)
    {
        var keys = rows.Select((r, i) => r.Group ?? $"row:{i}").Distinct().Order(StringComparer.Ordinal).ToArray();
        new Random(seed).Shuffle(keys);
        var test = keys.Take((int)Math.Round(keys.Length * fraction)).ToHashSet();
        var (train, held) = (new List<int>(), new List<int>());
        for (var i = 0; i < rows.Count; i++) (test.Contains(rows[i].Group ?? $"row:{i}") ? held : train).Add(i);
        return ([.. train], [.. held]);
    }
}
