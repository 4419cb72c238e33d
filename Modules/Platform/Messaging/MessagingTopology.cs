using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using RabbitMQ.Client;

namespace BirbalAI.Platform.Messaging;

/// <summary>
/// Declares, at start-up, the one topic exchange (with its alternate exchange into the durable
/// `unrouted` queue), the dead-letter queue, and every module's durable queue, bindings and back-off
/// queues. Declarations are idempotent, so every replica declares them.
/// </summary>
public sealed class MessagingTopology(RabbitConnection rabbit, IEnumerable<EventSubscription> subscriptions, ILogger<MessagingTopology> logger)
    : IHostedService
{
    public async Task StartAsync(CancellationToken ct)
    {
        var o = rabbit.Options;
        await using var channel = await (await rabbit.GetAsync(ct)).CreateChannelAsync(cancellationToken: ct);

        await channel.ExchangeDeclareAsync(o.UnroutedExchange, ExchangeType.Fanout, durable: true, autoDelete: false, cancellationToken: ct);
        await channel.QueueDeclareAsync(o.UnroutedQueue, durable: true, exclusive: false, autoDelete: false, cancellationToken: ct);
        await channel.QueueBindAsync(o.UnroutedQueue, o.UnroutedExchange, "", cancellationToken: ct);
        await channel.ExchangeDeclareAsync(o.Exchange, ExchangeType.Topic, durable: true, autoDelete: false,
            arguments: new Dictionary<string, object?> { ["alternate-exchange"] = o.UnroutedExchange }, cancellationToken: ct);
        await channel.QueueDeclareAsync(o.DeadLetterQueue, durable: true, exclusive: false, autoDelete: false, cancellationToken: ct);

        foreach (var module in subscriptions.GroupBy(s => s.Module))
        {
            var queue = o.ModuleQueue(module.Key);
            await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false, cancellationToken: ct);
            foreach (var wireName in module.Select(s => s.WireName).Distinct())
                await channel.QueueBindAsync(queue, o.Exchange, wireName, cancellationToken: ct);
            // A message waiting for its retry sits in a queue whose TTL is the back-off; when it expires the
            // broker dead-letters it back into the module's queue through the default exchange.
            foreach (var delay in o.RetryDelays.Distinct())
                await channel.QueueDeclareAsync(o.RetryQueue(module.Key, delay), durable: true, exclusive: false, autoDelete: false,
                    arguments: new Dictionary<string, object?>
                    {
                        ["x-message-ttl"] = delay,
                        ["x-dead-letter-exchange"] = "",
                        ["x-dead-letter-routing-key"] = queue,
                    }, cancellationToken: ct);
        }
        logger.LogInformation("Declared messaging topology on exchange {Exchange}", o.Exchange);
    }

    public Task StopAsync(CancellationToken ct) => Task.CompletedTask;
}
