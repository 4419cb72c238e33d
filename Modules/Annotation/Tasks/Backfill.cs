using BirbalAI.Annotation.Projects;
using BirbalAI.Contracts.Annotation;
using BirbalAI.Contracts.Chat;
using BirbalAI.Platform;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace BirbalAI.Annotation.Tasks;

/// <summary>
/// Messages held or flagged before this module existed (or while it was away) become tasks: read from Chat through
/// <see cref="IChatReviewSource"/>, never from the `unrouted` queue. Every message still waiting is read, page by page;
/// those that already have a task are left as they are, so running it again adds nothing.
/// </summary>
sealed class Backfill(NpgsqlDataSource db, IChatReviewSource chat, TaskIntake intake, IOptions<AnnotationOptions> options)
{
    const long Lock = 0x61_6e_6e_6f_62_66;   // one replica backfills at a time

    /// <summary>The number of tasks added.</summary>
    public async Task<int> RunAsync(CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition("select pg_advisory_lock(@Lock)", new { Lock }, cancellationToken: ct));
        try
        {
            var added = 0;
            Guid? after = null;
            while (true)
            {
                var page = await chat.WaitingSinceAsync(DateTimeOffset.UnixEpoch, after, options.Value.BackfillPageSize, ct);
                foreach (var message in page)
                    if (await intake.AddAsync(connection, null, message, ct)) added++;
                if (page.Count < options.Value.BackfillPageSize) break;
                after = page[^1].MessageId;
            }
            if (after is not null || added > 0)
                await connection.ExecuteAsync(new CommandDefinition(RecordSql, new { Source = ContentSources.ChatMessage, LastId = after ?? Guid.Empty }, cancellationToken: ct));
            return added;
        }
        finally
        {
            await connection.ExecuteAsync(new CommandDefinition("select pg_advisory_unlock(@Lock)", new { Lock }, cancellationToken: CancellationToken.None));
        }
    }

    const string RecordSql = """
        insert into annotation.backfill (source, last_id) values (@Source, @LastId)
        on conflict (source) do update set last_id = excluded.last_id, at = now()
        """;
}

/// <summary>At start: the moderation review project exists; on roles that run workers, a backfill runs in the background.</summary>
sealed class AnnotationStartup(NpgsqlDataSource db, IServiceProvider services, HostRole role, IOptions<AnnotationOptions> options, ILogger<AnnotationStartup> logger)
    : BackgroundService
{
    public override async Task StartAsync(CancellationToken ct)
    {
        await using (var connection = await db.OpenConnectionAsync(ct))
            await ProjectAccess.EnsureModerationAsync(connection, options.Value.ReservationMinutes, ct);
        await base.StartAsync(ct);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!role.RunsWorkers) return;
        try
        {
            var added = await services.GetRequiredService<Backfill>().RunAsync(stoppingToken);
            if (added > 0) logger.LogInformation("Backfill: {Added} chat messages waiting for review became tasks", added);
        }
        catch (Exception e) when (!stoppingToken.IsCancellationRequested)
        {
            logger.LogError(e, "Backfill from Chat failed; an Admin can run it again (POST /api/annotation/backfill)");
        }
    }
}
