using System.Text.Json;
using BirbalAI.Annotation.Import;
using BirbalAI.Annotation.Projects;
using Dapper;
using Hangfire;
using Microsoft.Extensions.Options;
using Npgsql;

namespace BirbalAI.Annotation.Jobs;

/// <summary>
/// A large import (over Annotation:ImportJobThresholdBytes), run by Hangfire on a worker role: the same reading, checks
/// and all-or-nothing commit as a small one, with its progress written as it goes (on a connection of its own, so the
/// project page sees it while the import's transaction is open). The import is marked done in the transaction that
/// commits its tasks, so a retried job never imports twice; the stored file is dropped once the job is over.
/// </summary>
sealed class ImportTasksJob(NpgsqlDataSource db, IOptions<AnnotationOptions> options)
{
    [AutomaticRetry(Attempts = 3)]
    public async Task RunAsync(Guid importId, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var import = await connection.QuerySingleOrDefaultAsync<Claimed>(new CommandDefinition(ClaimSql, new { importId }, cancellationToken: ct));
        if (import?.File is null) return;   // done already, or gone
        var project = await connection.QuerySingleAsync<ProjectRow>(new CommandDefinition(
            "select p.*, false as is_member from annotation.projects p where p.id = @ProjectId", new { import.ProjectId }, cancellationToken: ct));

        async Task Progress(string phase, int rows)
        {
            await using var progress = await db.OpenConnectionAsync(ct);
            await progress.ExecuteAsync(new CommandDefinition(phase == "reading" ? ReadingSql : WritingSql, new { importId, phase, rows }, cancellationToken: ct));
        }

        var outcome = await ImportTasks.RunAsync(connection, project, import.Format, new MemoryStream(import.File), import.SkipBadRows, import.CreatedBy, options.Value, Progress,
            (tx, report) => connection.ExecuteAsync(new CommandDefinition(DoneSql, new
            {
                importId, report.Imported, Read = report.Imported + report.Skipped.Count, Errors = JsonSerializer.Serialize(report.Skipped, Json),
            },
                tx, cancellationToken: ct)), ct);
        if (outcome.Report is null)
            await connection.ExecuteAsync(new CommandDefinition(FailedSql, new { importId, outcome.Error, Errors = JsonSerializer.Serialize(outcome.Errors.Take(1000), Json) },
                cancellationToken: ct));
    }

    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    sealed class Claimed
    {
        public Guid ProjectId { get; init; }
        public string Format { get; init; } = "";
        public bool SkipBadRows { get; init; }
        public Guid CreatedBy { get; init; }
        public byte[]? File { get; init; }
    }

    // A retry after a crash finds it running with its file still there, and starts over (nothing was committed).
    const string ClaimSql = """
        update annotation.imports set status = 'running', phase = 'reading', rows_read = 0, rows_written = 0
        where id = @ImportId and status in ('queued', 'running') and file is not null
        returning project_id, format, skip_bad_rows, created_by, file
        """;

    const string ReadingSql = "update annotation.imports set phase = @Phase, rows_read = @Rows where id = @ImportId";
    const string WritingSql = "update annotation.imports set phase = @Phase, rows_written = @Rows where id = @ImportId";

    const string DoneSql = """
        update annotation.imports set status = 'done', phase = null, imported = @Imported, rows_read = @Read, rows_written = @Imported, errors = @Errors::jsonb,
            file = null, finished_at = now()
        where id = @ImportId
        """;

    const string FailedSql = """
        update annotation.imports set status = 'failed', phase = null, error = @Error, errors = @Errors::jsonb, file = null, finished_at = now()
        where id = @ImportId
        """;
}
