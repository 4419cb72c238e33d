using BirbalAI.Platform.Messaging;
using Dapper;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using RabbitMQ.Client;

namespace BirbalAI.Platform.Jobs;

/// <summary>
/// Platform's retention (recurring job platform.purge-messaging): published outbox rows after
/// <see cref="RetentionOptions.PublishedOutboxDays"/>, inbox rows after <see cref="RetentionOptions.InboxDays"/>, and
/// parked messages after <see cref="RetentionOptions.DeadLetterDays"/> (by when they were parked).
/// </summary>
sealed class PurgeMessagingJob(NpgsqlDataSource db, RabbitConnection rabbit, IOptions<RetentionOptions> options, TimeProvider clock,
    ILogger<PurgeMessagingJob> logger)
{
    public const string Id = "platform.purge-messaging";

    public sealed record Purged(long OutboxRows, long InboxRows, long DeadLetters);

    public async Task<Purged> RunAsync(CancellationToken ct)
    {
        var o = options.Value;
        var now = clock.GetUtcNow();
        var outbox = await DeleteInBatchesAsync(PurgeOutboxSql, now.AddDays(-o.PublishedOutboxDays), ct);
        var inbox = await DeleteInBatchesAsync(PurgeInboxSql, now.AddDays(-o.InboxDays), ct);
        var letters = await PurgeDeadLettersAsync(now.AddDays(-o.DeadLetterDays), ct);
        logger.LogInformation("Retention: removed {Outbox} published outbox rows, {Inbox} inbox rows and {DeadLetters} dead letters", outbox, inbox, letters);
        return new Purged(outbox, inbox, letters);
    }

    async Task<long> DeleteInBatchesAsync(string sql, DateTimeOffset before, CancellationToken ct)
    {
        long total = 0;
        await using var connection = await db.OpenConnectionAsync(ct);
        while (true)
        {
            var deleted = await connection.ExecuteAsync(new CommandDefinition(sql, new { before, options.Value.BatchSize }, cancellationToken: ct));
            total += deleted;
            if (deleted < options.Value.BatchSize) return total;
        }
    }

    /// <summary>The queue is in parking order: drop from its head until a message parked after the cutoff, which goes back.</summary>
    async Task<long> PurgeDeadLettersAsync(DateTimeOffset before, CancellationToken ct)
    {
        long dropped = 0;
        await using var channel = await (await rabbit.GetAsync(ct)).CreateChannelAsync(cancellationToken: ct);
        while (await channel.BasicGetAsync(rabbit.Options.DeadLetterQueue, autoAck: false, ct) is { } message)
        {
            if (DeadLetters.ParkedAt(message.BasicProperties) is not { } parkedAt || parkedAt >= before) break;
            await channel.BasicAckAsync(message.DeliveryTag, multiple: false, ct);
            dropped++;
        }
        await channel.CloseAsync(ct);   // the first one kept goes back, unacknowledged, to the head of the queue
        return dropped;
    }

    const string PurgeOutboxSql = """
        delete from platform.outbox where id in (
            select id from platform.outbox where published_at < @Before limit @BatchSize)
        """;

    const string PurgeInboxSql = """
        delete from platform.inbox where (message_id, handler) in (
            select message_id, handler from platform.inbox where handled_at < @Before limit @BatchSize)
        """;
}
