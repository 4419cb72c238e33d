using System.Globalization;
using System.Security.Claims;
using System.Text;
using System.Text.Json;
using BirbalAI.Annotation.Import;
using BirbalAI.Annotation.Projects;
using BirbalAI.Annotation.Queue;
using BirbalAI.Contracts.Identity;
using CsvHelper;
using Dapper;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Npgsql;

namespace BirbalAI.Annotation.Export;

/// <summary>
/// A project's accepted labels (tasks done: decided, reviewed, or imported with agreeing labels; golden tasks never) as
/// JSONL, CSV or Label Studio JSON, in the shapes <see cref="ImportFormats"/> reads, so an export imports as the same
/// labels. A label's severity per category is the highest any annotator gave it. Written as the rows are read (Admins).
/// </summary>
static class ExportLabels
{
    public static void Map(RouteGroupBuilder annotation) =>
        annotation.MapGet("/projects/{projectId:guid}/export", Handle).RequireAuthorization(Policies.Admin)
            .WithSummary("The project's accepted labels: ?format=jsonl|csv|labelstudio").ProducesProblem(400).ProducesProblem(404);

    static async Task<Results<PushStreamHttpResult, ProblemHttpResult>> Handle(Guid projectId, string? format, ClaimsPrincipal user, NpgsqlDataSource db, CancellationToken ct)
    {
        if (format is not (ImportFormats.Jsonl or ImportFormats.Csv or ImportFormats.LabelStudio)) return QueueApi.Problem(400, "format: jsonl, csv or labelstudio.");
        await using (var connection = await db.OpenConnectionAsync(ct))
            if (await ProjectAccess.ReachableAsync(connection, projectId, user, ct) is null) return QueueApi.Problem(404, "No such project.");
        var (contentType, extension) = format switch
        {
            ImportFormats.Jsonl => ("application/x-ndjson", "jsonl"),
            ImportFormats.Csv => ("text/csv", "csv"),
            _ => ("application/json", "json"),
        };
        return TypedResults.Stream(async body =>
        {
            await using var connection = await db.OpenConnectionAsync(ct);
            await WriteAsync(connection, projectId, format, body, ct);
        }, contentType + "; charset=utf-8", $"labels-{projectId}.{extension}");
    }

    sealed class Row
    {
        public Guid Id { get; init; }
        public string Text { get; init; } = "";
        public string Language { get; init; } = "";
        public string[] Categories { get; init; } = [];
        public string Severities { get; init; } = "{}";
    }

    public static async Task WriteAsync(NpgsqlConnection connection, Guid projectId, string format, Stream body, CancellationToken ct)
    {
        var rows = connection.QueryUnbufferedAsync<Row>(LabelsSql, new { projectId }).WithCancellation(ct);
        await using var writer = new StreamWriter(body, new UTF8Encoding(false), leaveOpen: true) { NewLine = "\n" };
        var json = new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        if (format == ImportFormats.Csv)
        {
            await using var csv = new CsvWriter(writer, CultureInfo.InvariantCulture, leaveOpen: true);
            foreach (var header in new[] { "id", "text", "language", "categories", "severities" }) csv.WriteField(header);
            await csv.NextRecordAsync();
            await foreach (var r in rows)
            {
                var severities = Severities(r);
                csv.WriteField(r.Id);
                csv.WriteField(r.Text);
                csv.WriteField(r.Language);
                csv.WriteField(string.Join(",", r.Categories));
                csv.WriteField(string.Join(",", r.Categories.Where(severities.ContainsKey).Select(c => $"{c}={severities[c]}")));
                await csv.NextRecordAsync();
            }
        }
        else if (format == ImportFormats.Jsonl)
        {
            await foreach (var r in rows)
                await writer.WriteLineAsync(JsonSerializer.Serialize(new { id = r.Id, text = r.Text, language = r.Language, categories = r.Categories, severities = Severities(r) }, json));
        }
        else
        {
            // Label Studio's JSON export: an array of tasks, each with one annotation (the accepted label) from a multi-choice
            // Choices tag named "categories" on the Text tag "text", and a Rating "severity:<category>" per severity.
            await writer.WriteAsync("[");
            var n = 0;
            await foreach (var r in rows)
            {
                n++;
                var severities = Severities(r);
                List<object> result = [new { id = $"t{n}-categories", from_name = "categories", to_name = "text", type = "choices", value = new { choices = r.Categories } }];
                result.AddRange(r.Categories.Where(severities.ContainsKey).Select(c => new
                {
                    id = $"t{n}-{ImportFormats.SeverityPrefix}{c}", from_name = ImportFormats.SeverityPrefix + c, to_name = "text", type = "rating", value = new { rating = severities[c] },
                }));
                var task = new
                {
                    id = n,
                    data = new { text = r.Text, language = r.Language, birbal_task_id = r.Id },
                    annotations = new[] { new { id = n, result, was_cancelled = false, ground_truth = true, completed_by = "birbal" } },
                    predictions = Array.Empty<object>(),
                };
                await writer.WriteAsync((n == 1 ? "\n" : ",\n") + JsonSerializer.Serialize(task, json));
            }
            await writer.WriteAsync(n == 0 ? "]\n" : "\n]\n");
        }
        await writer.FlushAsync(ct);
    }

    static Dictionary<string, int> Severities(Row r) => JsonSerializer.Deserialize<Dictionary<string, int>>(r.Severities) ?? [];

    // The accepted label's categories; for each, the highest severity a published label gave it.
    const string LabelsSql = """
        select t.id, t.text, t.language, t.final_categories as categories,
            coalesce((select jsonb_object_agg(s.key, s.level) from (
                select e.key, max(e.value::int) as level from annotation.annotations n, jsonb_each_text(n.severities) e
                where n.task_id = t.id and n.published_at is not null and e.key = any(t.final_categories) group by e.key) s), '{}')::text as severities
        from annotation.tasks t
        where t.project_id = @ProjectId and t.status = 'done' and t.golden is null and t.final_categories is not null
        order by t.created_at, t.id
        """;
}
