using System.Diagnostics;
using System.Text;
using System.Text.Json;
using BirbalAI.Platform.Messaging;
using Dapper;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using RabbitMQ.Client;

namespace BirbalAI.Workers;

/// <summary>
/// Publishes committed outbox rows. Rows are claimed with <c>for update skip locked</c> (replicas share
/// the work), published with publisher confirms, and stamped in the same transaction as the claim. A crash
/// after publishing but before the stamp commits republishes the row: delivery is at least once, and the
/// consumers' inbox makes handling exactly once.
/// </summary>
sealed class OutboxRelay(NpgsqlDataSource db, RabbitConnection rabbit, ILogger<OutboxRelay> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await using var listener = await db.OpenConnectionAsync(stoppingToken);
        await listener.ExecuteAsync(new CommandDefinition($"listen {Outbox.NotifyChannel}", cancellationToken: stoppingToken));
        IChannel? channel = null;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                channel ??= await rabbit.CreateConfirmingChannelAsync(stoppingToken);
                if (await PublishBatchAsync(channel, stoppingToken) == rabbit.Options.RelayBatchSize) continue;
                // Idle: wait for a NOTIFY from Outbox.AddAsync, or poll after a while in case one was missed.
                await listener.WaitAsync(TimeSpan.FromMilliseconds(rabbit.Options.RelayIdleMs), stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                logger.LogError(e, "Outbox relay failed; retrying");
                if (channel is not null) { await channel.DisposeAsync(); channel = null; }
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken);
            }
        }
        if (channel is not null) await channel.DisposeAsync();
    }

    internal async Task<int> PublishBatchAsync(IChannel channel, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var rows = (await connection.QueryAsync<Row>(new CommandDefinition(ClaimSql,
            new { rabbit.Options.RelayBatchSize }, tx, cancellationToken: ct))).AsList();
        foreach (var row in rows)
        {
            var headers = JsonSerializer.Deserialize<Dictionary<string, string>>(row.Headers) ?? [];
            // The publish joins the trace of the change that wrote the row; the consumer's work is its child.
            using var activity = EventConsumers.Activities.StartActivity($"{row.WireName} publish", ActivityKind.Producer,
                headers.GetValueOrDefault("traceparent") ?? default(string));
            if (activity is not null)
            {
                activity.SetTag("messaging.message.id", row.Id.ToString());
                activity.SetTag("messaging.destination.name", rabbit.Options.Exchange);
                headers["traceparent"] = activity.Id!;
                if (activity.TraceStateString is { } state) headers["tracestate"] = state;
            }
            var properties = new BasicProperties
            {
                MessageId = row.Id.ToString(),
                Type = row.WireName,
                ContentType = "application/json",
                DeliveryMode = DeliveryModes.Persistent,
                Timestamp = new AmqpTimestamp(new DateTimeOffset(row.CreatedAt).ToUnixTimeSeconds()),
                Headers = headers.ToDictionary(h => h.Key, h => (object?)h.Value),
            };
            // Completes when the broker confirms; throws if it nacks, leaving the row unpublished.
            await channel.BasicPublishAsync(rabbit.Options.Exchange, row.WireName, mandatory: false, properties,
                Encoding.UTF8.GetBytes(row.Payload), ct);
        }
        if (rows.Count > 0)
            await connection.ExecuteAsync(new CommandDefinition(StampSql, new { Ids = rows.Select(r => r.Id).ToArray() }, tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
        return rows.Count;
    }

    sealed record Row(Guid Id, string WireName, string Payload, string Headers, DateTime CreatedAt);

    const string ClaimSql = """
        select id, wire_name, payload::text as payload, headers::text as headers, created_at
        from platform.outbox
        where published_at is null
        order by created_at
        limit @RelayBatchSize
        for update skip locked
        """;

    const string StampSql = "update platform.outbox set published_at = now(), attempts = attempts + 1 where id = any(@Ids)";
}
