using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace BirbalAI.Platform.Messaging;

/// <summary>
/// Tells every replica something changed (model swap, policy change, cache invalidation) over Redis
/// pub/sub. Pub/sub is fire-and-forget: a replica that was disconnected has missed messages, so each
/// subscription also gives a <c>resync</c> that re-reads the current state, run when the subscription
/// starts and again whenever the connection to Redis is restored.
/// </summary>
public sealed class Broadcasts : IDisposable
{
    readonly IConnectionMultiplexer redis;
    readonly string prefix;
    readonly ILogger<Broadcasts> logger;
    readonly ConcurrentBag<Func<CancellationToken, Task>> resyncs = [];

    public Broadcasts(IConnectionMultiplexer redis, IOptions<RedisOptions> options, ILogger<Broadcasts> logger)
    {
        this.redis = redis;
        prefix = options.Value.KeyPrefix;
        this.logger = logger;
        redis.ConnectionRestored += OnConnectionRestored;
    }

    public async Task PublishAsync(string channel, string message) =>
        await redis.GetSubscriber().PublishAsync(RedisChannel.Literal(prefix + channel), message);

    /// <summary>Calls <paramref name="resync"/> now, then <paramref name="onMessage"/> for every broadcast on the channel.</summary>
    public async Task SubscribeAsync(string channel, Func<string, Task> onMessage, Func<CancellationToken, Task> resync, CancellationToken ct)
    {
        await redis.GetSubscriber().SubscribeAsync(RedisChannel.Literal(prefix + channel), (_, value) =>
        {
            var message = value.ToString();
            Task.Run(() => Run(() => onMessage(message), channel));
        });
        resyncs.Add(resync);
        await resync(ct);
    }

    void OnConnectionRestored(object? sender, ConnectionFailedEventArgs e)
    {
        if (e.ConnectionType != ConnectionType.Subscription) return;
        logger.LogInformation("Redis subscription connection restored; re-reading broadcast state");
        foreach (var resync in resyncs) _ = Run(() => resync(CancellationToken.None), "resync");
    }

    async Task Run(Func<Task> work, string what)
    {
        try { await work(); }
        catch (Exception e) { logger.LogError(e, "Broadcast handler for {Channel} failed", what); }
    }

    public void Dispose() => redis.ConnectionRestored -= OnConnectionRestored;
}
