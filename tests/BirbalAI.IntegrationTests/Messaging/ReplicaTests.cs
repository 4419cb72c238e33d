using System.Collections.Concurrent;
using BirbalAI.Platform.Messaging;
using BirbalAI.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace BirbalAI.IntegrationTests.Messaging;

/// <summary>Two instances of one deployment sharing PostgreSQL, Redis and RabbitMQ.</summary>
public sealed class ReplicaTests : IAsyncLifetime
{
    readonly App first = new();
    App second = null!;

    public async ValueTask InitializeAsync()
    {
        await first.InitializeAsync();
        second = App.ReplicaOf(first);
    }

    public async ValueTask DisposeAsync()
    {
        await second.DisposeAsync();
        await first.DisposeAsync();
    }

    [Fact]
    public async Task A_broadcast_from_one_instance_reaches_both()
    {
        var heard = new ConcurrentBag<string>();
        foreach (var (name, app) in new[] { ("first", first), ("second", second) })
            await app.Services.GetRequiredService<Broadcasts>().SubscribeAsync("cache-invalidated",
                m => { heard.Add($"{name}:{m}"); return Task.CompletedTask; }, _ => Task.CompletedTask, TestContext.Current.CancellationToken);

        await first.Services.GetRequiredService<Broadcasts>().PublishAsync("cache-invalidated", "rooms");

        await Eventually.TrueAsync(() => Task.FromResult(heard.Count == 2), "both instances hear the broadcast");
        Assert.Equal(["first:rooms", "second:rooms"], heard.Order());
    }
}
