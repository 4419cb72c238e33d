using System.Collections.Concurrent;
using BirbalAI.Platform.Messaging;
using BirbalAI.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace BirbalAI.IntegrationTests.Messaging;

/// <summary>Two instances of one deployment sharing PostgreSQL, Redis and RabbitMQ.</summary>
public sealed class ReplicaTests : TwoReplicas
{
    [Fact]
    public async Task A_broadcast_from_one_instance_reaches_both()
    {
        var heard = new ConcurrentBag<string>();
        foreach (var (name, app) in new[] { ("first", First), ("second", Second) })
            await app.Services.GetRequiredService<Broadcasts>().SubscribeAsync("cache-invalidated",
                m => { heard.Add($"{name}:{m}"); return Task.CompletedTask; }, _ => Task.CompletedTask, TestContext.Current.CancellationToken);

        await First.Services.GetRequiredService<Broadcasts>().PublishAsync("cache-invalidated", "rooms");

        await Eventually.TrueAsync(() => Task.FromResult(heard.Count == 2), "both instances hear the broadcast");
        Assert.Equal(["first:rooms", "second:rooms"], heard.Order());
    }
}

/// <summary>The data-protection key ring is shared through Redis: a session made on one replica works on the other.</summary>
public sealed class SharedSessionTests : TwoReplicas
{
    [Fact]
    public async Task A_cookie_issued_by_one_replica_is_honoured_by_the_other_and_the_key_ring_is_encrypted()
    {
        var onFirst = await BirbalAI.IntegrationTests.Accounts.SignedInAsync(First, BirbalAI.Contracts.Identity.Roles.Admin);
        var page = await onFirst.GetAsync("/admin/identity/users", TestContext.Current.CancellationToken);
        Assert.Equal(System.Net.HttpStatusCode.OK, page.StatusCode);

        // Replay the First replica's session cookie against the Second.
        var sessionCookie = (await onFirst.GetAsync("/", TestContext.Current.CancellationToken)).RequestMessage!.Headers.TryGetValues("Cookie", out var values)
            ? string.Join("; ", values) : throw new InvalidOperationException("no cookie sent");
        var onSecond = Second.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });
        onSecond.DefaultRequestHeaders.Add("Cookie", sessionCookie);
        Assert.Equal(System.Net.HttpStatusCode.OK, (await onSecond.GetAsync("/admin/identity/users", TestContext.Current.CancellationToken)).StatusCode);

        var redis = First.Services.GetRequiredService<StackExchange.Redis.IConnectionMultiplexer>().GetDatabase();
        var ring = string.Join("\n", (await redis.ListRangeAsync(First.Prefix + ":data-protection-keys")).Select(v => v.ToString()));
        Assert.Contains("encryptedKey", ring);
        Assert.DoesNotContain("<masterKey", ring);
    }
}
