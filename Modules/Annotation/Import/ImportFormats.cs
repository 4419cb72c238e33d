using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using CsvHelper;
using CsvHelper.Configuration;

namespace BirbalAI.Annotation.Import;

/// <summary>One label that came with an imported item: who gave it (as the file names them), its categories, a severity (1–3) per category.</summary>
sealed record ImportedLabel(string By, IReadOnlyList<string> Categories, IReadOnlyDictionary<string, int> Severities);

/// <summary>
/// One item of an import file: where it is (a line; for Label Studio JSON the task's position in the array), its text and
/// language, the labels it came with, the model's scores from Label Studio predictions, or what is wrong with it.
/// </summary>
sealed record ImportRow(int Line, string? Text, string? Language, IReadOnlyList<ImportedLabel> Labels, IReadOnlyDictionary<string, float> Scores, string? Error)
{
    public static ImportRow Bad(int line, string error) => new(line, null, null, [], Empty, error);
    public static readonly IReadOnlyDictionary<string, float> Empty = new Dictionary<string, float>();
}

/// <summary>
/// The import formats, each read as a stream. JSONL: one object a line ("text", optional "language", "categories",
/// "severities"). CSV (RFC 4180): a header with "text", optional "language", "categories" (comma-separated in one field;
/// with the column every row is a label, an empty one "none applies") and "severities" ("category=2,…"). Label Studio JSON:
/// the array of tasks its JSON export writes, for a text config with a multi-choice <c>Choices</c> tag: data.text (and
/// data.language), annotations[].result[] of type "choices" (value.choices) and, our addition, of type "rating" from
/// "severity:&lt;category&gt;"; cancelled annotations are left out; predictions[].result[] become the model's scores.
/// </summary>
static class ImportFormats
{
    public const string Jsonl = "jsonl", Csv = "csv", LabelStudio = "labelstudio";
    public const string ImportedBy = "import";
    public const string SeverityPrefix = "severity:";

    public static IAsyncEnumerable<ImportRow> Read(string format, Stream body, CancellationToken ct) => format switch
    {
        Jsonl => ReadJsonLines(body, ct),
        Csv => ReadCsv(body, ct),
        LabelStudio => ReadLabelStudio(body, ct),
        _ => throw new ArgumentOutOfRangeException(nameof(format)),
    };

    static async IAsyncEnumerable<ImportRow> ReadJsonLines(Stream body, [EnumeratorCancellation] CancellationToken ct)
    {
        using var reader = new StreamReader(body);
        var line = 0;
        while (await reader.ReadLineAsync(ct) is { } text)
        {
            line++;
            if (string.IsNullOrWhiteSpace(text)) continue;
            ImportRow row;
            try
            {
                using var json = JsonDocument.Parse(text);
                row = FromObject(line, json.RootElement);
            }
            catch (JsonException e)
            {
                row = ImportRow.Bad(line, $"not JSON: {e.Message.Split(" Path:")[0]}");
            }
            yield return row;
        }
    }

    static ImportRow FromObject(int line, JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object) return ImportRow.Bad(line, "not a JSON object");
        var labels = new List<ImportedLabel>();
        if (root.TryGetProperty("categories", out var categories))
        {
            if (categories.ValueKind != JsonValueKind.Array || categories.EnumerateArray().Any(c => c.ValueKind != JsonValueKind.String))
                return ImportRow.Bad(line, "categories is a list of category names");
            var severities = new Dictionary<string, int>();
            if (root.TryGetProperty("severities", out var given) && given.ValueKind != JsonValueKind.Null)
            {
                if (given.ValueKind != JsonValueKind.Object || given.EnumerateObject().Any(s => s.Value.ValueKind != JsonValueKind.Number || !s.Value.TryGetInt32(out _)))
                    return ImportRow.Bad(line, "severities is an object of category: 1 to 3");
                foreach (var s in given.EnumerateObject()) severities[s.Name] = s.Value.GetInt32();
            }
            labels.Add(new ImportedLabel(ImportedBy, [.. categories.EnumerateArray().Select(c => c.GetString()!)], severities));
        }
        return new ImportRow(line, String(root, "text"), String(root, "language"), labels, ImportRow.Empty, null);
    }

    static string? String(JsonElement o, string name) => o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    static async IAsyncEnumerable<ImportRow> ReadCsv(Stream body, [EnumeratorCancellation] CancellationToken ct)
    {
        using var reader = new StreamReader(body);
        using var csv = new CsvReader(reader, new CsvConfiguration(CultureInfo.InvariantCulture) { BadDataFound = null, MissingFieldFound = null, DetectDelimiter = false });
        if (!await csv.ReadAsync() || !csv.ReadHeader() || csv.HeaderRecord is not { } header || !header.Contains("text"))
        {
            yield return ImportRow.Bad(1, "the first line must be a header with a \"text\" column (optionally \"language\", \"categories\", \"severities\")");
            yield break;
        }
        bool hasLanguage = header.Contains("language"), hasCategories = header.Contains("categories"), hasSeverities = header.Contains("severities");
        while (!ct.IsCancellationRequested && await csv.ReadAsync())
        {
            var line = csv.Parser.RawRow;
            var labels = new List<ImportedLabel>();
            string? error = null;
            if (hasCategories)
            {
                var categories = Split(csv.GetField("categories"));
                var severities = new Dictionary<string, int>();
                foreach (var pair in hasSeverities ? Split(csv.GetField("severities")) : [])
                {
                    // The severity is the digit after the last '=' (a category name may hold one).
                    var at = pair.LastIndexOf('=');
                    if (at <= 0 || !int.TryParse(pair[(at + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var level))
                        error = $"severities: \"{pair}\" is not category=1..3";
                    else severities[pair[..at].Trim()] = level;
                }
                labels.Add(new ImportedLabel(ImportedBy, categories, severities));
            }
            yield return error is null
                ? new ImportRow(line, csv.GetField("text"), hasLanguage ? csv.GetField("language") : null, labels, ImportRow.Empty, null)
                : ImportRow.Bad(line, error);
        }
    }

    static string[] Split(string? field) => (field ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);

    static async IAsyncEnumerable<ImportRow> ReadLabelStudio(Stream body, [EnumeratorCancellation] CancellationToken ct)
    {
        // The top-level array is read one task at a time: the file is never held whole.
        var tasks = JsonSerializer.DeserializeAsyncEnumerable<JsonElement>(body, cancellationToken: ct).GetAsyncEnumerator(ct);
        for (var position = 1; ; position++)
        {
            ImportRow? row = null;
            bool more;
            try
            {
                more = await tasks.MoveNextAsync();
                if (more) row = FromLabelStudioTask(position, tasks.Current);
            }
            catch (JsonException e)
            {
                more = false;
                row = ImportRow.Bad(position, $"not Label Studio JSON (an array of tasks): {e.Message.Split(" Path:")[0]}");
            }
            if (row is not null) yield return row;
            if (!more) break;
        }
        await tasks.DisposeAsync();
    }

    static ImportRow FromLabelStudioTask(int position, JsonElement task)
    {
        if (task.ValueKind != JsonValueKind.Object) return ImportRow.Bad(position, "a task is a JSON object");
        if (!task.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Object) return ImportRow.Bad(position, "the task has no \"data\" object");
        var labels = new List<ImportedLabel>();
        foreach (var annotation in Array(task, "annotations"))
        {
            if (annotation.TryGetProperty("was_cancelled", out var cancelled) && cancelled.ValueKind == JsonValueKind.True) continue;
            var (categories, severities, error) = Results(annotation);
            if (error is not null) return ImportRow.Bad(position, error);
            labels.Add(new ImportedLabel(CompletedBy(annotation, labels.Count), categories, severities));
        }
        var scores = new Dictionary<string, float>();
        foreach (var prediction in Array(task, "predictions"))
        {
            var score = prediction.TryGetProperty("score", out var s) && s.ValueKind == JsonValueKind.Number ? s.GetSingle() : 1f;
            var (categories, _, error) = Results(prediction);
            if (error is not null) return ImportRow.Bad(position, "prediction: " + error);
            foreach (var c in categories) scores[c] = Math.Max(scores.GetValueOrDefault(c), score);
        }
        return new ImportRow(position, String(data, "text"), String(data, "language"), labels, scores, null);
    }

    static IEnumerable<JsonElement> Array(JsonElement o, string name) =>
        o.TryGetProperty(name, out var a) && a.ValueKind == JsonValueKind.Array ? a.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.Object) : [];

    static (List<string> Categories, Dictionary<string, int> Severities, string? Error) Results(JsonElement annotation)
    {
        var categories = new List<string>();
        var severities = new Dictionary<string, int>();
        foreach (var result in Array(annotation, "result"))
        {
            var type = String(result, "type");
            if (!result.TryGetProperty("value", out var value) || value.ValueKind != JsonValueKind.Object) continue;
            if (type == "choices")
            {
                if (!value.TryGetProperty("choices", out var choices) || choices.ValueKind != JsonValueKind.Array || choices.EnumerateArray().Any(c => c.ValueKind != JsonValueKind.String))
                    return ([], [], "value.choices of a \"choices\" result is a list of names");
                categories.AddRange(choices.EnumerateArray().Select(c => c.GetString()!).Where(c => !categories.Contains(c)));
            }
            else if (type == "rating" && String(result, "from_name") is { } from && from.StartsWith(SeverityPrefix, StringComparison.Ordinal))
            {
                if (!value.TryGetProperty("rating", out var rating) || !rating.TryGetInt32(out var level))
                    return ([], [], $"the \"{from}\" rating has no whole value.rating");
                severities[from[SeverityPrefix.Length..]] = level;
            }
        }
        return (categories, severities, null);
    }

    /// <summary>Who labelled it, as Label Studio names them: an email, a user id, or the annotation's position.</summary>
    static string CompletedBy(JsonElement annotation, int index) => annotation.TryGetProperty("completed_by", out var by) ? by.ValueKind switch
    {
        JsonValueKind.String => by.GetString()!,
        JsonValueKind.Number => $"labelstudio user {by.GetRawText()}",
        JsonValueKind.Object when String(by, "email") is { } email => email,
        _ => $"{ImportedBy} {index + 1}",
    } : $"{ImportedBy} {index + 1}";
}
