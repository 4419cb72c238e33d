using System.Security.Claims;
using BirbalAI.Contracts.Identity;
using Dapper;
using Npgsql;

namespace BirbalAI.Chat.Rooms;

/// <summary>A room as one person sees it: whether it exists, is archived, and their part in it.</summary>
sealed class Membership
{
    public Guid RoomId { get; init; }
    public string Name { get; init; } = "";
    public bool IsPrivate { get; init; }
    public bool Archived { get; init; }
    public string? Role { get; init; }

    public bool IsMember => Role is not null;
    public bool IsModerator => Role == "moderator";
}

static class RoomAccess
{
    /// <summary>The room and <paramref name="userId"/>'s part in it; null when there is no such room.</summary>
    public static Task<Membership?> GetAsync(NpgsqlConnection connection, Guid roomId, Guid userId, CancellationToken ct, NpgsqlTransaction? tx = null) =>
        connection.QuerySingleOrDefaultAsync<Membership?>(new CommandDefinition("""
            select r.id as room_id, r.name, r.is_private, r.archived_at is not null as archived, m.role
            from chat.rooms r left join chat.members m on m.room_id = r.id and m.user_id = @UserId
            where r.id = @RoomId
            """, new { roomId, userId }, tx, cancellationToken: ct));

    /// <summary>Room moderators moderate their room; Admins every room.</summary>
    public static bool CanModerate(this Membership room, ClaimsPrincipal user) => room.IsModerator || user.IsInRole(Roles.Admin);

    /// <summary>A private room is invisible to non-members: it answers as if it did not exist.</summary>
    public static bool IsVisibleTo(this Membership room, ClaimsPrincipal user) => !room.IsPrivate || room.IsMember || user.IsInRole(Roles.Admin);

    /// <summary>The member has read the room up to now (unread counts start again from here).</summary>
    public static Task MarkReadAsync(NpgsqlConnection connection, Guid roomId, Guid userId, CancellationToken ct) =>
        connection.ExecuteAsync(new CommandDefinition("update chat.members set last_read_at = now() where room_id = @RoomId and user_id = @UserId",
            new { roomId, userId }, cancellationToken: ct));

    public static async Task<IReadOnlyList<string>> MemberIdsAsync(NpgsqlConnection connection, Guid roomId, CancellationToken ct) =>
        [.. (await connection.QueryAsync<Guid>(new CommandDefinition("select user_id from chat.members where room_id = @RoomId",
            new { roomId }, cancellationToken: ct))).Select(id => id.ToString())];
}
