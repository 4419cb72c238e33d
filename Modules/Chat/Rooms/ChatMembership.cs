using BirbalAI.Contracts.Chat;
using Dapper;
using Npgsql;

namespace BirbalAI.Chat.Rooms;

/// <summary>Chat's answer to <see cref="IChatMembership"/>: the rooms a person is in now (archived ones included: sharing is reading).</summary>
sealed class ChatMembership(NpgsqlDataSource db) : IChatMembership
{
    public async Task<IReadOnlyList<RoomMembership>> RoomsOfAsync(Guid userId, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<RoomMembership>(new CommandDefinition(Sql, new { userId }, cancellationToken: ct))).AsList();
    }

    const string Sql = """
        select r.id as room_id, r.name from chat.members me join chat.rooms r on r.id = me.room_id
        where me.user_id = @UserId order by r.name
        """;
}
