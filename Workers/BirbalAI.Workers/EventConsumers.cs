using System.Diagnostics;
using System.Text;
using System.Text.Json;
using BirbalAI.Platform;
using BirbalAI.Platform.Messaging;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace BirbalAI.Workers;

/// <summary>
/// Consumes every module's queue. Each handler runs in its own transaction together with its inbox row
/// (message id, handler), so a redelivered message is handled once per handler. The message is
/// acknowledged only after the handlers' transactions commit. A failure sends a copy to the module's
/// back-off queue (it returns after the delay); after <see cref="RabbitMqOptions.MaxDeliveries"/> tries,
/// or when it can never be handled (unknown or unreadable), it is parked in the dead-letter queue with
/// the reason in its headers.
/// </summary>
sealed class EventConsumers(
    RabbitConnection rabbit, NpgsqlDataSource db, IServiceProvider services,
    IEnumerable<EventSubscription> subscriptions, ILogger<EventConsumers> logger) : BackgroundService
{
    public const string AttemptHeader = "x-birbal-attempt";
    public const string ReasonHeader = "x-birbal-reason";
    public const string QueueHeader = "x-birbal-queue";
    internal static readonly ActivitySource Activities = new($"{PlatformModule.TelemetryName}.Messaging");

    readonly List<IChannel> channels = [];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var connection = await rabbit.GetAsync(stoppingToken);
        foreach (var module in subscriptions.GroupBy(s => s.Module))
        {
            var consumer = await connection.CreateChannelAsync(cancellationToken: stoppingToken);
            var publisher = await rabbit.CreateConfirmingChannelAsync(stoppingToken);
            lock (channels)
            {
                channels.Add(consumer);
                channels.Add(publisher);
            }
            await consumer.BasicQosAsync(0, rabbit.Options.Prefetch, global: false, stoppingToken);
            var handlers = module.ToList();
            var queue = rabbit.Options.ModuleQueue(module.Key);
            var basicConsumer = new AsyncEventingBasicConsumer(consumer);
            basicConsumer.ReceivedAsync += (_, delivery) => OnDeliveryAsync(consumer, publisher, module.Key, handlers, delivery, stoppingToken);
            await consumer.BasicConsumeAsync(queue, autoAck: false, basicConsumer, stoppingToken);
            logger.LogInformation("Consuming {Queue} for {Handlers}", queue, string.Join(", ", handlers.Select(h => h.HandlerName)));
        }
    }

    async Task OnDeliveryAsync(IChannel consumer, IChannel publisher, string module, List<EventSubscription> handlers,
        BasicDeliverEventArgs delivery, CancellationToken ct)
    {
        var queue = rabbit.Options.ModuleQueue(module);
        var properties = delivery.BasicProperties;
        var wireName = properties.Type ?? "";
        var attempt = ReadInt(properties.Headers, AttemptHeader) ?? 1;
        using var activity = Activities.StartActivity($"{wireName} process", ActivityKind.Consumer,
            ReadString(properties.Headers, "traceparent") ?? default(string));
        activity?.SetTag("messaging.message.id", properties.MessageId);
        activity?.SetTag("messaging.destination.name", queue);

        string? failure = null;
        var retry = false;
        var matching = handlers.Where(h => h.WireName == wireName).ToList();
        if (!Guid.TryParse(properties.MessageId, out var messageId))
            failure = "the message has no message id (a GUID), so it cannot be handled exactly once";
        else if (matching.Count == 0)
            failure = $"no handler in {queue} for '{wireName}'";
        else
        {
            foreach (var handler in matching)
            {
                object? evt;
                try
                {
                    evt = JsonSerializer.Deserialize(delivery.Body.Span, handler.EventType, IntegrationEvents.Json);
                }
                catch (JsonException e)
                {
                    failure = $"the payload is not a valid {handler.EventType.Name}: {e.Message}";
                    break;
                }
                if (evt is null) { failure = $"the payload is not a valid {handler.EventType.Name}: null"; break; }
                try
                {
                    await HandleOnceAsync(handler, evt, messageId, attempt, ct);
                }
                catch (Exception e) when (!ct.IsCancellationRequested)
                {
                    failure = $"{handler.HandlerName} failed on attempt {attempt}: {e.GetType().Name}: {e.Message}";
                    retry = attempt < rabbit.Options.MaxDeliveries;
                    logger.LogWarning(e, "Handling {WireName} {MessageId} failed (attempt {Attempt})", wireName, messageId, attempt);
                    break;
                }
            }
        }

        if (failure is not null)
        {
            var copy = new BasicProperties(properties) { Headers = new Dictionary<string, object?>(properties.Headers ?? new Dictionary<string, object?>()) };
            if (retry)
            {
                copy.Headers[AttemptHeader] = attempt + 1;
                await publisher.BasicPublishAsync("", rabbit.Options.RetryQueue(module, rabbit.Options.RetryDelay(attempt)),
                    mandatory: false, copy, delivery.Body, ct);
            }
            else
            {
                copy.Headers[ReasonHeader] = failure;
                copy.Headers[QueueHeader] = queue;
                copy.Headers[DeadLetters.ParkedAtHeader] = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
                await publisher.BasicPublishAsync("", rabbit.Options.DeadLetterQueue, mandatory: false, copy, delivery.Body, ct);
                logger.LogError("Parked {WireName} {MessageId} in the dead-letter queue: {Reason}", wireName, properties.MessageId, failure);
            }
        }
        // Acknowledged only now: after the handlers committed, or after the confirmed copy was queued.
        await consumer.BasicAckAsync(delivery.DeliveryTag, multiple: false, ct);
    }

    async Task HandleOnceAsync(EventSubscription handler, object evt, Guid messageId, int attempt, CancellationToken ct)
    {
        await using var scope = services.CreateAsyncScope();
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var first = await connection.ExecuteAsync(new CommandDefinition(InboxSql,
            new { messageId, Handler = handler.HandlerName }, tx, cancellationToken: ct));
        if (first == 0) return;   // handled before: a redelivery
        var context = new MessageContext(messageId, attempt, connection, tx);
        await handler.InvokeAsync(scope.ServiceProvider, evt, context, ct);
        await tx.CommitAsync(ct);
        try { await context.RunAfterCommitAsync(ct); }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            logger.LogWarning(e, "After-commit work of {Handler} for {MessageId} failed; the change stands", handler.HandlerName, messageId);
        }
    }

    static string? ReadString(IDictionary<string, object?>? headers, string key) =>
        headers?.TryGetValue(key, out var value) == true
            ? value switch { byte[] bytes => Encoding.UTF8.GetString(bytes), string s => s, _ => null }
            : null;

    static int? ReadInt(IDictionary<string, object?>? headers, string key) =>
        headers?.TryGetValue(key, out var value) == true
            ? value switch { int i => i, long l => (int)l, byte b => b, short s => s, _ => null }
            : null;

    public override async Task StopAsync(CancellationToken ct)
    {
        await base.StopAsync(ct);
        // Stopping twice, even at once (a host stopped while it is disposed), closes nothing twice: a disposed channel cannot be closed again.
        List<IChannel> open;
        lock (channels)
        {
            open = [.. channels];
            channels.Clear();
        }
        // At once: a broker slow to confirm one close (the client waits up to its continuation timeout) holds up no other.
        await Task.WhenAll(open.Select(channel => CloseAsync(channel, ct)));
    }

    async Task CloseAsync(IChannel channel, CancellationToken ct)
    {
        // The host's shutdown time running out, or the broker not confirming the close within the client's continuation
        // timeout (reported as a cancellation), ends the close early: stopping goes on. A channel that did not close is
        // not disposed (after a failed close the client's dispose can wait for ever); it goes with its connection.
        if (await RabbitShutdown.WithinAsync(() => channel.IsOpen ? channel.CloseAsync(ct) : Task.CompletedTask, logger, "Closing a consumer channel"))
            await RabbitShutdown.WithinAsync(() => channel.DisposeAsync().AsTask(), logger, "Disposing a consumer channel");
    }

    const string InboxSql = """
        insert into platform.inbox (message_id, handler) values (@MessageId, @Handler) on conflict do nothing
        """;
}
