using System.Text.Json;
using BirbalAI.Annotation.Import;
using BirbalAI.Annotation.Projects;
using Dapper;
using Hangfire;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace BirbalAI.Annotation.Jobs;

/// <summary>
/// A large import (over Annotation:ImportJobThresholdBytes), run by Hangfire on a worker role: the same reading, checks
/// and all-or-nothing commit as a small one, with its progress written as it goes (on a connection of its own, so the
/// project page sees it while the import's transaction is open). The import is marked done in the transaction that
/// commits its tasks, so a retried job never imports twice; the stored file is dropped once the job is over.
/// A job that throws tries again, after Annotation:ImportJobRetrySeconds, up to Annotation:ImportJobAttempts in all, then
/// fails the import with the reason; each claim counts as an attempt, so workers that keep stopping before they finish
/// (Hangfire runs a dead worker's job again) also end in failed, never in an import left running. Hangfire's own retries
/// are off: their number and delays could not be configured, nor the import told of the last one.
/// </summary>
sealed class ImportTasksJob(NpgsqlDataSource db, IBackgroundJobClient jobs, IOptions<AnnotationOptions> options, ILogger<ImportTasksJob> logger)
{
    [AutomaticRetry(Attempts = 0)]
    public async Task RunAsync(Guid importId, CancellationToken ct)
    {
        var o = options.Value;
        await using var connection = await db.OpenConnectionAsync(ct);
        var import = await connection.QuerySingleOrDefaultAsync<Claimed>(new CommandDefinition(ClaimSql, new { importId }, cancellationToken: ct));
        if (import?.File is null) return;   // done already, or gone
        if (import.Attempts > o.ImportJobAttempts)
        {
            await FailAsync(importId, $"its worker stopped before it finished, {o.ImportJobAttempts} times (Annotation:ImportJobAttempts); nothing was imported", "[]");
            return;
        }
        try
        {
            var project = await connection.QuerySingleAsync<ProjectRow>(new CommandDefinition(
                "select p.*, false as is_member from annotation.projects p where p.id = @ProjectId", new { import.ProjectId }, cancellationToken: ct));

            async Task Progress(string phase, int rows)
            {
                await using var progress = await db.OpenConnectionAsync(ct);
                await progress.ExecuteAsync(new CommandDefinition(phase == "reading" ? ReadingSql : WritingSql, new { importId, phase, rows }, cancellationToken: ct));
            }

            var outcome = await ImportTasks.RunAsync(connection, project, import.Format, new MemoryStream(import.File), import.SkipBadRows, import.CreatedBy, o, Progress,
                (tx, report) => connection.ExecuteAsync(new CommandDefinition(DoneSql, new
                {
                    importId, report.Imported, Read = report.Imported + report.Skipped.Count, Errors = JsonSerializer.Serialize(report.Skipped, Json),
                },
                    tx, cancellationToken: ct)), ct);
            if (outcome.Report is null) await FailAsync(importId, outcome.Error, JsonSerializer.Serialize(outcome.Errors.Take(1000), Json));
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The worker is stopping: not the import's failure. Hangfire runs the job again, and that claim is this attempt's.
            await using var requeue = await db.OpenConnectionAsync(CancellationToken.None);
            await requeue.ExecuteAsync("update annotation.imports set status = 'queued', phase = null, attempts = attempts - 1 where id = @importId and status = 'running'",
                new { importId });
            throw;
        }
        catch (Exception e)
        {
            var reason = $"{e.GetType().Name}: {e.Message}";
            if (import.Attempts < o.ImportJobAttempts)
            {
                logger.LogWarning(e, "Import {Id} failed on attempt {Attempt} of {Attempts}; it runs again in {Seconds} s", importId, import.Attempts, o.ImportJobAttempts,
                    o.ImportJobRetrySeconds);
                await using var retry = await db.OpenConnectionAsync(CancellationToken.None);
                await retry.ExecuteAsync(RetrySql, new { importId, Error = $"attempt {import.Attempts} of {o.ImportJobAttempts} failed ({reason}); trying again" });
                if (o.ImportJobRetrySeconds == 0) jobs.Enqueue<ImportTasksJob>(job => job.RunAsync(importId, CancellationToken.None));
                else jobs.Schedule<ImportTasksJob>(job => job.RunAsync(importId, CancellationToken.None), TimeSpan.FromSeconds(o.ImportJobRetrySeconds));
                return;
            }
            logger.LogError(e, "Import {Id} failed on its last attempt ({Attempts})", importId, o.ImportJobAttempts);
            await FailAsync(importId, $"failed {o.ImportJobAttempts} times (Annotation:ImportJobAttempts), last with {reason}; nothing was imported", "[]");
        }
    }

    async Task FailAsync(Guid importId, string? error, string errors)
    {
        await using var connection = await db.OpenConnectionAsync(CancellationToken.None);
        await connection.ExecuteAsync(FailedSql, new { importId, error, errors });
    }

    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    sealed class Claimed
    {
        public Guid ProjectId { get; init; }
        public string Format { get; init; } = "";
        public bool SkipBadRows { get; init; }
        public Guid CreatedBy { get; init; }
        public byte[]? File { get; init; }
        public int Attempts { get; init; }
    }

    // A retry after a crash finds it running with its file still there, and starts over (nothing was committed): another attempt.
    const string ClaimSql = """
        update annotation.imports set status = 'running', phase = 'reading', rows_read = 0, rows_written = 0, attempts = attempts + 1
        where id = @ImportId and status in ('queued', 'running') and file is not null
        returning project_id, format, skip_bad_rows, created_by, file, attempts
        """;

    const string RetrySql = "update annotation.imports set status = 'queued', phase = null, error = @Error where id = @ImportId and status = 'running'";

    const string ReadingSql = "update annotation.imports set phase = @Phase, rows_read = @Rows where id = @ImportId";
    const string WritingSql = "update annotation.imports set phase = @Phase, rows_written = @Rows where id = @ImportId";

    const string DoneSql = """
        update annotation.imports set status = 'done', phase = null, imported = @Imported, rows_read = @Read, rows_written = @Imported, errors = @Errors::jsonb, error = null,
            file = null, finished_at = now()
        where id = @ImportId
        """;

    const string FailedSql = """
        update annotation.imports set status = 'failed', phase = null, error = @Error, errors = @Errors::jsonb, file = null, finished_at = now()
        where id = @ImportId and status <> 'done'   -- an error after the commit leaves a done import done
        """;
}
