using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using BirbalAI.Annotation.Projects;
using BirbalAI.Annotation.Queue;
using BirbalAI.Contracts.Annotation;
using BirbalAI.Contracts.Identity;
using BirbalAI.Platform.Messaging;
using Dapper;
using Hangfire;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;
using Npgsql;

namespace BirbalAI.Annotation.Import;

/// <summary>
/// Items to label, imported into a labelling project (Admins) as JSONL, CSV or Label Studio JSON (<see cref="ImportFormats"/>),
/// read as a stream. Every bad row is reported with its line; with one, nothing is committed unless skipBadRows is set (then
/// the good rows are, and the bad listed). Items may come with labels: one label, or labels that all agree, make the task
/// done with them as its accepted label, which goes to Ml as <see cref="LabelAccepted"/> in the import's transaction, like a
/// reviewer's; labels that disagree send it to review (Ml hears of it when a reviewer accepts). Items without labels are
/// tasks, and predictions only scores: neither is a label. The rows are capped by
/// Annotation:MaxImportRows, the body by Annotation:MaxImportBytes (and Api:MaxRequestBodyBytes).
/// </summary>
static class ImportTasks
{
    public sealed record RowError(int Line, string Error);
    public sealed record Report(int Imported, IReadOnlyList<RowError> Skipped);

    /// <summary>A large import running as a job: queued, running (phase reading or writing, rows so far), done (imported, skipped) or failed (error, errors).</summary>
    public sealed record ImportStatus(Guid Id, Guid ProjectId, string Format, long Bytes, string Status, string? Phase, int RowsRead, int RowsWritten, int? Imported,
        string? Error, DateTime CreatedAt, DateTime? FinishedAt);

    public static void Map(RouteGroupBuilder annotation)
    {
        annotation.MapPost("/projects/{projectId:guid}/import", Handle).RequireAuthorization(Policies.Admin)
            .WithSummary("Import items to label: ?format=jsonl|csv|labelstudio (the body), &skipBadRows=true to commit the good rows of a file with bad ones; "
                + "a file over Annotation:ImportJobThresholdBytes runs as a job (202, its progress at the Location)")
            .ProducesProblem(400).ProducesProblem(404).ProducesProblem(413);   // any content type: a 415 before authorisation would say too much
        annotation.MapGet("/imports/{importId:guid}", Status).RequireAuthorization(Policies.Admin).WithSummary("A large import's progress and report").ProducesProblem(404);
    }

    static async Task<Results<Ok<Report>, Accepted<ImportStatus>, ProblemHttpResult>> Handle(Guid projectId, string? format, bool? skipBadRows, HttpRequest request,
        ClaimsPrincipal user, NpgsqlDataSource db, IOptions<AnnotationOptions> options, IBackgroundJobClient jobs, CancellationToken ct) =>
        await SubmitAsync(db, jobs, user, projectId, format, skipBadRows == true, request.Body, request.ContentLength, options.Value, ct) switch
        {
            { Report: { } report } => TypedResults.Ok(report),
            { Queued: { } queued } => TypedResults.Accepted($"/api/annotation/imports/{queued.Id}", queued),
            { Invalid: { } invalid } => Refusal(invalid),
            var refused => QueueApi.Problem(refused.Status, refused.Error!),
        };

    /// <summary>
    /// What an import request came to: imported at once (<see cref="Report"/>), queued as a job (<see cref="Queued"/>), the file
    /// refused by its rows (<see cref="Invalid"/>: nothing imported), or refused before it was read (<see cref="Status"/>, <see cref="Error"/>).
    /// </summary>
    public sealed record Submission(Report? Report = null, ImportStatus? Queued = null, Outcome? Invalid = null, int Status = 200, string? Error = null);

    /// <summary>
    /// One import file into <paramref name="projectId"/>, for the API and the project page alike: checks the format, the project
    /// and the size (<paramref name="length"/> when known, else while reading), imports a small file at once and queues one over
    /// Annotation:ImportJobThresholdBytes as a job.
    /// </summary>
    public static async Task<Submission> SubmitAsync(NpgsqlDataSource db, IBackgroundJobClient jobs, ClaimsPrincipal user, Guid projectId, string? format, bool skipBadRows,
        Stream body, long? length, AnnotationOptions o, CancellationToken ct)
    {
        if (format is not (ImportFormats.Jsonl or ImportFormats.Csv or ImportFormats.LabelStudio)) return new(Status: 400, Error: "format: jsonl, csv or labelstudio.");
        await using var connection = await db.OpenConnectionAsync(ct);
        if (await ProjectAccess.ReachableAsync(connection, projectId, user, ct) is not { } project) return new(Status: 404, Error: "No such project.");
        if (project.IsModeration) return new(Status: 400, Error: "The moderation review project takes its tasks from Chat; import into a labelling project.");
        var tooLarge = new Submission(Status: 413, Error: $"The file is larger than {o.MaxImportBytes} bytes (Annotation:MaxImportBytes); nothing was imported.");
        if (length > o.MaxImportBytes) return tooLarge;
        try
        {
            if (length is not { } known || known > o.ImportJobThresholdBytes)
            {
                // Large, or of unknown length: read up to the limit; past the threshold it becomes a job.
                var file = new MemoryStream();
                var buffer = new byte[81920];
                for (int read; (read = await body.ReadAsync(buffer, ct)) > 0;)
                {
                    if (file.Length + read > o.MaxImportBytes) return tooLarge;
                    file.Write(buffer, 0, read);
                }
                if (file.Length > o.ImportJobThresholdBytes)
                {
                    var id = await QueueAsync(connection, jobs, project.Id, format, skipBadRows, file.ToArray(), user, ct);
                    return new(Queued: (await StatusAsync(connection, project.Id, ct)).First(i => i.Id == id));
                }
                file.Position = 0;
                body = file;
            }
            var outcome = await RunAsync(connection, project, format, body, skipBadRows, user.UserId(), o, null, null, ct);
            return outcome.Report is { } report ? new(Report: report) : new(Invalid: outcome, Status: 400, Error: outcome.Error);
        }
        catch (BadHttpRequestException e)
        {
            return new(Status: e.StatusCode, Error: e.Message);
        }
    }

    static async Task<Guid> QueueAsync(NpgsqlConnection connection, IBackgroundJobClient jobs, Guid projectId, string format, bool skipBadRows, byte[] file,
        ClaimsPrincipal user, CancellationToken ct)
    {
        var id = Guid.CreateVersion7();
        await connection.ExecuteAsync(new CommandDefinition("""
            insert into annotation.imports (id, project_id, format, skip_bad_rows, file, bytes, created_by)
            values (@Id, @ProjectId, @Format, @SkipBadRows, @File, @Bytes, @CreatedBy)
            """, new { id, projectId, format, skipBadRows, file, Bytes = file.LongLength, CreatedBy = user.UserId() }, cancellationToken: ct));
        jobs.Enqueue<Jobs.ImportTasksJob>(job => job.RunAsync(id, CancellationToken.None));
        return id;
    }

    static async Task<Results<Ok<ImportStatus>, ProblemHttpResult>> Status(Guid importId, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var status = await connection.QuerySingleOrDefaultAsync<ImportStatus>(new CommandDefinition($"{StatusSql} where id = @ImportId", new { importId }, cancellationToken: ct));
        return status is null ? QueueApi.Problem(404, "No such import.") : TypedResults.Ok(status);
    }

    /// <summary>A project's latest imports that ran as jobs, newest first (the project page shows them).</summary>
    public static async Task<IReadOnlyList<ImportStatus>> StatusAsync(NpgsqlConnection connection, Guid projectId, CancellationToken ct) =>
        [.. await connection.QueryAsync<ImportStatus>(new CommandDefinition($"{StatusSql} where project_id = @ProjectId order by created_at desc limit 10", new { projectId }, cancellationToken: ct))];

    const string StatusSql = "select id, project_id, format, bytes, status, phase, rows_read, rows_written, imported, error, created_at, finished_at from annotation.imports";

    /// <summary>What an import came to: its report, or why nothing was imported (with the bad rows).</summary>
    public sealed record Outcome(Report? Report, string? Error, IReadOnlyList<RowError> Errors);

    public static ProblemHttpResult Refusal(Outcome outcome) => TypedResults.Problem(outcome.Error, statusCode: 400, title: "Invalid import",
        extensions: outcome.Errors.Count == 0 ? null : new Dictionary<string, object?> { ["errors"] = outcome.Errors.Take(1000).ToList() });

    /// <summary>
    /// Reads, checks and (when it may) commits one import file into <paramref name="project"/>, in one transaction with
    /// <paramref name="beforeCommit"/> in it, and the accepted labels it brings for Ml, accepted by <paramref name="importedBy"/>.
    /// <paramref name="progress"/> hears how many rows were read, every 1,000 rows, then how many were written.
    /// </summary>
    public static async Task<Outcome> RunAsync(NpgsqlConnection connection, ProjectRow project, string format, Stream body, bool skipBadRows, Guid importedBy,
        AnnotationOptions o, Func<string, int, Task>? progress, Func<NpgsqlTransaction, Report, Task>? beforeCommit, CancellationToken ct)
    {
        var rows = new List<ImportRow>();
        var errors = new List<RowError>();
        await foreach (var row in ImportFormats.Read(format, body, ct))
        {
            if (rows.Count + errors.Count >= o.MaxImportRows)
                return new Outcome(null, $"The file has more than {o.MaxImportRows} rows (Annotation:MaxImportRows); nothing was imported.", []);
            if (Check(row, project, o) is { } problem) errors.Add(new RowError(row.Line, problem));
            else rows.Add(row);
            if (progress is not null && (rows.Count + errors.Count) % 1000 == 0) await progress("reading", rows.Count + errors.Count);
        }
        if (errors.Count > 0 && !skipBadRows)
            return new Outcome(null, $"{errors.Count} bad rows; nothing was imported (send skipBadRows=true to import the others). "
                + string.Join("; ", errors.Take(100).Select(e => $"line {e.Line}: {e.Error}")), errors);

        await using var tx = await connection.BeginTransactionAsync(ct);
        var acceptedAt = DateTimeOffset.UtcNow;
        for (var start = 0; start < rows.Count; start += 1000)
        {
            var chunk = rows.Skip(start).Take(1000).Select(r => (Id: Guid.CreateVersion7(), Row: r)).ToList();
            await connection.ExecuteAsync(new CommandDefinition(InsertSql, new
            {
                project.Id, Source = ContentSources.Import,
                Tasks = JsonSerializer.Serialize(chunk.Select(c => Task(c.Id, c.Row))),
                Labels = JsonSerializer.Serialize(chunk.SelectMany(c => Labels(project.Id, c.Id, c.Row.Labels))),
            }, tx, cancellationToken: ct));
            foreach (var (id, row) in chunk)
                if (Accepted(row) is { } categories)
                    await Outbox.AddAsync(connection, tx, new LabelAccepted(row.Text!, Language(row), categories, ContentSources.Import, ContentIdOf(row.Text!),
                        project.Id, id, importedBy, acceptedAt), ct);
            if (progress is not null) await progress("writing", start + chunk.Count);
        }
        var report = new Report(rows.Count, errors);
        if (beforeCommit is not null) await beforeCommit(tx, report);
        await tx.CommitAsync(ct);
        return new Outcome(report, null, errors);
    }

    static string? Check(ImportRow row, ProjectRow project, AnnotationOptions o)
    {
        if (row.Error is not null) return row.Error;
        if (string.IsNullOrWhiteSpace(row.Text)) return "text is missing or empty";
        // PostgreSQL stores no NUL in text or jsonb: without this check the whole import would fail at the insert, not report the row.
        if (row.Text.Contains('\0') || row.Language?.Contains('\0') == true || row.Labels.Any(l => l.By.Contains('\0')))
            return "contains a NUL character (\\u0000), which cannot be stored";
        if (row.Text.Length > o.MaxItemLength) return $"text has {row.Text.Length} characters; the limit is {o.MaxItemLength} (Annotation:MaxItemLength)";
        if (row.Language is { Length: > 20 }) return "language is a language tag (\"en\", \"hi-Latn\")";
        foreach (var label in row.Labels)
        {
            if (label.Categories.Except(project.Labels).ToList() is [_, ..] unknown) return $"not a category of this project: {string.Join(", ", unknown)}";
            if (label.Severities.FirstOrDefault(s => !label.Categories.Contains(s.Key) || s.Value is < 1 or > 3) is { Key: not null } bad)
                return $"severity of '{bad.Key}': 1 to 3, and only for a category given";
        }
        if (row.Scores.Keys.Except(project.Labels).ToList() is [_, ..] predicted) return $"prediction of a category this project does not have: {string.Join(", ", predicted)}";
        return null;
    }

    /// <summary>One label, or labels that all agree ([] = none applies), are the row's accepted label; null when it has none, or they disagree.</summary>
    static string[]? Accepted(ImportRow row)
    {
        var sets = row.Labels.Select(l => l.Categories.Distinct().Order().ToArray()).ToList();
        return sets.Count > 0 && sets.All(s => s.SequenceEqual(sets[0])) ? sets[0] : null;
    }

    static string Language(ImportRow row) => string.IsNullOrWhiteSpace(row.Language) ? "und" : row.Language.Trim();

    /// <summary>
    /// The content id an imported text has in Ml's datasets: a hash of the text, so the same text imported twice (into one
    /// project or several, or exported and imported again) is one example there, the later label replacing the earlier.
    /// </summary>
    public static Guid ContentIdOf(string text) => new(SHA256.HashData(Encoding.UTF8.GetBytes(text)).AsSpan(0, 16));

    static object Task(Guid id, ImportRow row)
    {
        // Disagreeing labels wait for a reviewer.
        var final = Accepted(row);
        return new
        {
            id, text = row.Text, language = Language(row), scores = row.Scores,
            status = row.Labels.Count == 0 ? "open" : final is not null ? "done" : "review", labelled = row.Labels.Count, final_categories = final,
        };
    }

    static IEnumerable<object> Labels(Guid projectId, Guid taskId, IReadOnlyList<ImportedLabel> labels)
    {
        var seen = new HashSet<string>();
        foreach (var label in labels)
        {
            var by = label.By;
            for (var n = 2; !seen.Add(by); n++) by = $"{label.By} ({n})";
            yield return new
            {
                id = Guid.CreateVersion7(), task_id = taskId, user_id = ImportedUser(projectId, by), user_name = by,
                categories = label.Categories.Distinct().ToArray(), severities = label.Severities,
            };
        }
    }

    /// <summary>An imported annotator is nobody who signs in: a stable id from the project and the name the file gives.</summary>
    static Guid ImportedUser(Guid projectId, string by) => new(MD5.HashData(Encoding.UTF8.GetBytes($"annotation.import:{projectId}:{by}")));

    const string InsertSql = """
        insert into annotation.tasks (id, project_id, source, kind, text, language, scores, status, labelled, final_categories, decided_at, created_at)
        select r.id, @Id, @Source, 'item', r.text, r.language, r.scores, r.status, r.labelled, r.final_categories, case when r.status = 'done' then now() end,
            clock_timestamp()   -- the file's order is the queue's at equal severity, and the export's
        from jsonb_to_recordset(@Tasks::jsonb) as r (id uuid, text text, language text, scores jsonb, status text, labelled int, final_categories text[]);
        insert into annotation.annotations (id, task_id, user_id, user_name, categories, severities, publish_at, published_at)
        select l.id, l.task_id, l.user_id, l.user_name, l.categories, l.severities, now(), now()
        from jsonb_to_recordset(@Labels::jsonb) as l (id uuid, task_id uuid, user_id uuid, user_name text, categories text[], severities jsonb);
        """;
}
