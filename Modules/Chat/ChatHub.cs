using BirbalAI.Chat.Rooms;
using BirbalAI.Contracts.Identity;
using BirbalAI.Platform.Messaging;
using Dapper;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;
using Npgsql;
using StackExchange.Redis;

namespace BirbalAI.Chat;

/// <summary>
/// Live chat at /hubs/chat (cookie, JWT or API key). Messages are pushed by <see cref="Messages.ChatMessages"/> to
/// the users who may see them (never to a group a removed member could still be in); the hub itself carries
/// typing indicators and presence. Across replicas through the Redis backplane.
/// </summary>
[Authorize]
sealed class ChatHub(NpgsqlDataSource db, IConnectionMultiplexer redis, IOptions<RedisOptions> redisOptions) : Hub
{
    string OnlineKey => redisOptions.Value.KeyPrefix + "chat:online";

    /// <summary>Refuses a caller who is not in the room: they may not learn or signal anything about it.</summary>
    async Task<NpgsqlConnection> MemberOnlyAsync(Guid roomId)
    {
        var connection = await db.OpenConnectionAsync(Context.ConnectionAborted);
        if (await RoomAccess.GetAsync(connection, roomId, Context.User!.UserId(), Context.ConnectionAborted) is not { IsMember: true })
        {
            await connection.DisposeAsync();
            throw new HubException("You are not in that room.");
        }
        return connection;
    }

    /// <summary>Tells the room's other members that the caller is typing.</summary>
    public async Task Typing(Guid roomId)
    {
        var userId = Context.User!.UserId();
        await using var connection = await MemberOnlyAsync(roomId);
        var others = (await RoomAccess.MemberIdsAsync(connection, roomId, Context.ConnectionAborted)).Where(id => id != userId.ToString()).ToList();
        await Clients.Users(others).SendAsync("typing", new { roomId, userId, name = Context.User!.Identity?.Name });
    }

    /// <summary>The members of the room who are online now (any replica); members only.</summary>
    public async Task<IReadOnlyList<Guid>> Online(Guid roomId)
    {
        await using var connection = await MemberOnlyAsync(roomId);
        var members = await RoomAccess.MemberIdsAsync(connection, roomId, Context.ConnectionAborted);
        var counts = await redis.GetDatabase().HashGetAsync(OnlineKey, [.. members.Select(m => (RedisValue)m)]);
        return [.. members.Where((_, i) => counts[i].HasValue && (long)counts[i] > 0).Select(Guid.Parse)];
    }

    /// <summary>Marks the room read for the caller (unread counts).</summary>
    public async Task Read(Guid roomId)
    {
        await using var connection = await MemberOnlyAsync(roomId);
        await RoomAccess.MarkReadAsync(connection, roomId, Context.User!.UserId(), Context.ConnectionAborted);
    }

    public override async Task OnConnectedAsync()
    {
        if (await redis.GetDatabase().HashIncrementAsync(OnlineKey, Context.UserIdentifier) == 1) await AnnounceAsync(true);
    }

    public override async Task OnDisconnectedAsync(Exception? exception)
    {
        var left = await redis.GetDatabase().HashDecrementAsync(OnlineKey, Context.UserIdentifier);
        if (left <= 0)
        {
            await redis.GetDatabase().HashDeleteAsync(OnlineKey, Context.UserIdentifier);
            await AnnounceAsync(false);
        }
    }

    /// <summary>Tells everyone who shares a room with the caller that they came or went.</summary>
    async Task AnnounceAsync(bool online)
    {
        await using var connection = await db.OpenConnectionAsync();
        var peers = (await connection.QueryAsync<Guid>(new CommandDefinition("""
            select distinct other.user_id from chat.members mine join chat.members other on other.room_id = mine.room_id
            where mine.user_id = @UserId and other.user_id <> @UserId
            """, new { UserId = Context.User!.UserId() }))).Select(id => id.ToString()).ToList();
        await Clients.Users(peers).SendAsync("presence", new { userId = Context.User!.UserId(), online });
    }
}
