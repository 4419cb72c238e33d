using System.Globalization;
using System.Security.Claims;
using System.Text.Json;
using BirbalAI.Annotation.Projects;
using BirbalAI.Annotation.Queue;
using BirbalAI.Contracts.Identity;
using CsvHelper;
using CsvHelper.Configuration;
using Dapper;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;
using Npgsql;

namespace BirbalAI.Annotation.Import;

/// <summary>
/// Items to label, imported into a labelling project (Admins) as JSONL (one object a line: "text", optional "language")
/// or CSV (header with a "text" column, optional "language"). Read as a stream, line by line. Every bad row is reported
/// with its line; with one, nothing is committed unless skipBadRows is set (then the good rows are, and the bad listed).
/// The request body is capped by Api:MaxRequestBodyBytes, the rows by Annotation:MaxImportRows.
/// </summary>
static class ImportTasks
{
    public sealed record RowError(int Line, string Error);
    public sealed record Report(int Imported, IReadOnlyList<RowError> Skipped);

    public static void Map(RouteGroupBuilder annotation) =>
        annotation.MapPost("/projects/{projectId:guid}/import", Handle).RequireAuthorization(Policies.Admin)
            .WithSummary("Import items to label: ?format=jsonl|csv (the body), &skipBadRows=true to commit the good rows of a file with bad ones")
            .ProducesProblem(400).ProducesProblem(404);   // any content type: a 415 before authorisation would say too much

    static async Task<Results<Ok<Report>, ProblemHttpResult>> Handle(Guid projectId, string? format, bool? skipBadRows, HttpRequest request, ClaimsPrincipal user,
        NpgsqlDataSource db, IOptions<AnnotationOptions> options, CancellationToken ct)
    {
        if (format is not ("jsonl" or "csv")) return QueueApi.Problem(400, "format: jsonl or csv.");
        await using var connection = await db.OpenConnectionAsync(ct);
        if (await ProjectAccess.ReachableAsync(connection, projectId, user, ct) is not { } project) return QueueApi.Problem(404, "No such project.");
        if (project.IsModeration) return QueueApi.Problem(400, "The moderation review project takes its tasks from Chat; import into a labelling project.");

        var o = options.Value;
        var rows = new List<(string Text, string Language)>();
        var errors = new List<RowError>();
        using var reader = new StreamReader(request.Body);
        try
        {
            await foreach (var (line, text, language, error) in format == "jsonl" ? ReadJsonLines(reader, ct) : ReadCsv(reader, ct))
            {
                if (rows.Count + errors.Count >= o.MaxImportRows)
                    return QueueApi.Problem(400, $"The file has more than {o.MaxImportRows} rows (Annotation:MaxImportRows); nothing was imported.");
                var problem = error ?? (string.IsNullOrWhiteSpace(text) ? "text is missing or empty"
                    : text.Length > o.MaxItemLength ? $"text has {text.Length} characters; the limit is {o.MaxItemLength} (Annotation:MaxItemLength)"
                    : language is { Length: > 20 } ? "language is a language tag (\"en\", \"hi-Latn\")" : null);
                if (problem is null) rows.Add((text!, string.IsNullOrWhiteSpace(language) ? "und" : language.Trim()));
                else errors.Add(new RowError(line, problem));
            }
        }
        catch (Microsoft.AspNetCore.Http.BadHttpRequestException e)
        {
            return QueueApi.Problem(e.StatusCode, e.Message);
        }
        if (errors.Count > 0 && skipBadRows != true)
        {
            var problem = TypedResults.Problem($"{errors.Count} bad rows; nothing was imported (send skipBadRows=true to import the others). "
                + string.Join("; ", errors.Take(100).Select(e => $"line {e.Line}: {e.Error}")), statusCode: 400, title: "Invalid import",
                extensions: new Dictionary<string, object?> { ["errors"] = errors.Take(1000).ToList() });
            return problem;
        }
        await using var tx = await connection.BeginTransactionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition(InsertSql, new
        {
            projectId, Ids = rows.Select(_ => Guid.CreateVersion7()).ToArray(), Texts = rows.Select(r => r.Text).ToArray(), Languages = rows.Select(r => r.Language).ToArray(),
        }, tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
        return TypedResults.Ok(new Report(rows.Count, errors));
    }

    static async IAsyncEnumerable<(int Line, string? Text, string? Language, string? Error)> ReadJsonLines(StreamReader reader, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        var line = 0;
        while (await reader.ReadLineAsync(ct) is { } text)
        {
            line++;
            if (string.IsNullOrWhiteSpace(text)) continue;
            (string?, string?, string?) row;
            try
            {
                using var json = JsonDocument.Parse(text);
                var root = json.RootElement;
                row = root.ValueKind != JsonValueKind.Object ? (null, null, "not a JSON object")
                    : (root.TryGetProperty("text", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null,
                       root.TryGetProperty("language", out var l) && l.ValueKind == JsonValueKind.String ? l.GetString() : null, null);
            }
            catch (JsonException e)
            {
                row = (null, null, $"not JSON: {e.Message.Split(" Path:")[0]}");
            }
            yield return (line, row.Item1, row.Item2, row.Item3);
        }
    }

    static async IAsyncEnumerable<(int Line, string? Text, string? Language, string? Error)> ReadCsv(StreamReader reader, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        using var csv = new CsvReader(reader, new CsvConfiguration(CultureInfo.InvariantCulture) { BadDataFound = null, MissingFieldFound = null, DetectDelimiter = false });
        if (!await csv.ReadAsync() || !csv.ReadHeader() || csv.HeaderRecord is not { } header || !header.Contains("text"))
        {
            yield return (1, null, null, "the first line must be a header with a \"text\" column (and optionally \"language\")");
            yield break;
        }
        var hasLanguage = header.Contains("language");
        while (!ct.IsCancellationRequested && await csv.ReadAsync())
            yield return (csv.Parser.RawRow, csv.GetField("text"), hasLanguage ? csv.GetField("language") : null, null);
    }

    const string InsertSql = """
        insert into annotation.tasks (id, project_id, source, kind, text, language)
        select id, @ProjectId, 'import', 'item', text, language from unnest(@Ids, @Texts, @Languages) as r (id, text, language)
        """;
}
