using BirbalAI.Platform.Messaging;
using BirbalAI.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace BirbalAI.Platform.Tests.Messaging;

public sealed class BroadcastsTests : IAsyncLifetime
{
    readonly string prefix = TestServers.UniqueName() + ":";
    readonly List<ConnectionMultiplexer> connections = [];

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        foreach (var connection in connections) await connection.DisposeAsync();
    }

    async Task<Broadcasts> ReplicaAsync()
    {
        var connection = await ConnectionMultiplexer.ConnectAsync(TestServers.Redis + ",name=" + prefix.TrimEnd(':'));
        connections.Add(connection);
        return new Broadcasts(connection, Options.Create(new RedisOptions { ConnectionString = TestServers.Redis, KeyPrefix = prefix }),
            NullLogger<Broadcasts>.Instance);
    }

    [Fact]
    public async Task A_broadcast_reaches_every_replica()
    {
        var one = await ReplicaAsync();
        var two = await ReplicaAsync();
        var seen = new System.Collections.Concurrent.ConcurrentBag<string>();
        await one.SubscribeAsync("model-changed", m => { seen.Add("one:" + m); return Task.CompletedTask; }, _ => Task.CompletedTask, TestContext.Current.CancellationToken);
        await two.SubscribeAsync("model-changed", m => { seen.Add("two:" + m); return Task.CompletedTask; }, _ => Task.CompletedTask, TestContext.Current.CancellationToken);

        await one.PublishAsync("model-changed", "v7");

        await Eventually.TrueAsync(() => Task.FromResult(seen.Count == 2), "both replicas hear it");
        Assert.Equal(["one:v7", "two:v7"], seen.Order());
    }

    [Fact]
    public async Task A_replica_rereads_the_current_state_when_its_connection_comes_back()
    {
        var replica = await ReplicaAsync();
        var resyncs = 0;
        await replica.SubscribeAsync("policy-changed", _ => Task.CompletedTask, _ => { Interlocked.Increment(ref resyncs); return Task.CompletedTask; },
            TestContext.Current.CancellationToken);
        Assert.Equal(1, resyncs);   // read once when subscribing

        // The server drops the replica's subscription connection: anything broadcast meanwhile is lost.
        await using var admin = await ConnectionMultiplexer.ConnectAsync(TestServers.Redis + ",allowAdmin=true");
        var server = admin.GetServer(admin.GetEndPoints()[0]);
        var subscription = (await server.ClientListAsync()).Single(c => c.Name == prefix.TrimEnd(':') && c.ClientType == ClientType.PubSub);
        await server.ExecuteAsync("CLIENT", "KILL", "ID", subscription.Id);

        await Eventually.TrueAsync(() => Task.FromResult(Volatile.Read(ref resyncs) >= 2), "the replica re-reads after reconnecting");
    }
}
