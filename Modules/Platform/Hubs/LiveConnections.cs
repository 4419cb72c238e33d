using System.Collections.Concurrent;
using BirbalAI.Contracts.Identity;
using BirbalAI.Platform.Messaging;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace BirbalAI.Platform.Hubs;

/// <summary>
/// The hub filter every hub gets (registered once with SignalR): a connection acts only while its user is current
/// (<see cref="IUserDirectory.IsCurrentAsync"/>: enabled, unchanged, key not revoked, session not ended, token not
/// expired) — checked when it connects and on every call — and when Identity broadcasts that a user changed, every
/// replica closes that user's connections that are no longer current, so a disabled account stops receiving at once.
/// </summary>
public sealed class LiveConnections(IServiceProvider services, ILogger<LiveConnections> logger) : IHubFilter
{
    readonly ConcurrentDictionary<string, ConcurrentDictionary<string, HubCallerContext>> byUser = new();

    IUserDirectory Directory => services.GetRequiredService<IUserDirectory>();

    public async ValueTask<object?> InvokeMethodAsync(HubInvocationContext invocation, Func<HubInvocationContext, ValueTask<object?>> next)
    {
        if (invocation.Context.User is not { } user || !await Directory.IsCurrentAsync(user, invocation.Context.ConnectionAborted))
            // Refused with a reason the client sees; the connection itself is closed by the user-changed broadcast
            // (or, for an expired sign-in, by CloseOnAuthenticationExpiration), which would race this answer.
            throw new HubException("Your session has ended: sign in again.");
        return await next(invocation);
    }

    public async Task OnConnectedAsync(HubLifetimeContext context, Func<HubLifetimeContext, Task> next)
    {
        if (context.Context.User is not { } user || !await Directory.IsCurrentAsync(user, context.Context.ConnectionAborted))
            throw new HubException("Your session has ended: sign in again.");
        if (context.Context.UserIdentifier is { } id)
            byUser.GetOrAdd(id, _ => new())[context.Context.ConnectionId] = context.Context;
        await next(context);
    }

    public Task OnDisconnectedAsync(HubLifetimeContext context, Exception? exception, Func<HubLifetimeContext, Exception?, Task> next)
    {
        if (context.Context.UserIdentifier is { } user && byUser.TryGetValue(user, out var connections))
        {
            connections.TryRemove(context.Context.ConnectionId, out _);
            if (connections.IsEmpty) byUser.TryRemove(new KeyValuePair<string, ConcurrentDictionary<string, HubCallerContext>>(user, connections));
        }
        return next(context, exception);
    }

    /// <summary>Open connections on this replica (for tests and metrics).</summary>
    public int Count => byUser.Values.Sum(c => c.Count);

    /// <summary>Closes this user's connections (on this replica) that are no longer current.</summary>
    public async Task RecheckAsync(string userId, CancellationToken ct)
    {
        if (!byUser.TryGetValue(userId, out var connections)) return;
        foreach (var connection in connections.Values)
            if (connection.User is not { } user || !await Directory.IsCurrentAsync(user, ct))
            {
                logger.LogInformation("Closing a hub connection of user {UserId}: no longer current", userId);
                connection.Abort();
            }
    }

    /// <summary>Every connection again, after this replica may have missed broadcasts (Redis reconnected).</summary>
    public async Task RecheckAllAsync(CancellationToken ct)
    {
        foreach (var user in byUser.Keys) await RecheckAsync(user, ct);
    }
}

/// <summary>Follows Identity's user-changed broadcast on every web replica.</summary>
sealed class LiveConnectionsFollower(LiveConnections connections, Broadcasts broadcasts) : IHostedService
{
    public Task StartAsync(CancellationToken ct) =>
        broadcasts.SubscribeAsync(UserChanged.Channel, user => connections.RecheckAsync(user, CancellationToken.None), connections.RecheckAllAsync, ct);

    public Task StopAsync(CancellationToken ct) => Task.CompletedTask;
}
