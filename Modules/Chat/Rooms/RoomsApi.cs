using System.Security.Claims;
using BirbalAI.Contracts.Identity;
using Dapper;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;
using Npgsql;

namespace BirbalAI.Chat.Rooms;

/// <summary>Rooms: list, create, rename, archive, join, leave, and members (invite, remove, make moderator).</summary>
static class RoomsApi
{
    public sealed record RoomRow(Guid Id, string Name, bool IsPrivate, bool Archived, string? Role, long Unread);
    public sealed record CreateRequest(string? Name, bool IsPrivate);
    public sealed record RenameRequest(string? Name);
    public sealed record AddMemberRequest(string? Email, bool Moderator);
    public sealed record AddMemberResponse(string Detail);
    public sealed record MemberRow(Guid UserId, string Role, DateTime JoinedAt);

    public static void Map(RouteGroupBuilder rooms)
    {
        rooms.MapGet("/", List).WithSummary("Rooms you are in (with unread counts) and public rooms you may join");
        rooms.MapPost("/", Create).WithSummary("Create a room; you moderate it").ProducesProblem(400);
        rooms.MapPut("/{roomId:guid}", Rename).WithSummary("Rename a room (its moderators, Admins)").ProducesProblem(400).ProducesProblem(403).ProducesProblem(404);
        rooms.MapPost("/{roomId:guid}/archive", Archive).WithSummary("Archive a room: read-only from now (its moderators, Admins)").ProducesProblem(403).ProducesProblem(404);
        rooms.MapPost("/{roomId:guid}/join", Join).WithSummary("Join a public room").ProducesProblem(403).ProducesProblem(404);
        rooms.MapPost("/{roomId:guid}/leave", Leave).WithSummary("Leave a room").ProducesProblem(404);
        rooms.MapGet("/{roomId:guid}/members", Members).WithSummary("The room's members (members only)").ProducesProblem(403).ProducesProblem(404);
        rooms.MapPost("/{roomId:guid}/members", AddMember)
            .WithSummary("Add someone by email, as member or moderator (its moderators, Admins); 202 whether or not the email has an account")
            .ProducesProblem(400).ProducesProblem(403).ProducesProblem(404);
        rooms.MapDelete("/{roomId:guid}/members/{userId:guid}", RemoveMember).WithSummary("Remove someone from the room (its moderators, Admins)").ProducesProblem(403).ProducesProblem(404);
    }

    public static async Task<IReadOnlyList<RoomRow>> ListAsync(NpgsqlConnection connection, Guid userId, CancellationToken ct) =>
        (await connection.QueryAsync<RoomRow>(new CommandDefinition(ListSql, new { userId }, cancellationToken: ct))).AsList();

    static async Task<Ok<IReadOnlyList<RoomRow>>> List(ClaimsPrincipal user, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return TypedResults.Ok(await ListAsync(connection, user.UserId(), ct));
    }

    public static string? CheckName(string? name, ChatOptions options) =>
        string.IsNullOrWhiteSpace(name) ? "Give the room a name."
        : name.Trim().Length > options.MaxRoomNameLength ? $"A room name has at most {options.MaxRoomNameLength} characters (Chat:MaxRoomNameLength)."
        : name.Any(char.IsControl) ? "A room name cannot hold control characters." : null;

    public static async Task<Guid> CreateAsync(NpgsqlConnection connection, Guid userId, string name, bool isPrivate, CancellationToken ct)
    {
        var id = Guid.CreateVersion7();
        await using var tx = await connection.BeginTransactionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition("""
            insert into chat.rooms (id, name, is_private, created_by) values (@Id, @Name, @IsPrivate, @UserId);
            insert into chat.members (room_id, user_id, role) values (@Id, @UserId, 'moderator');
            """, new { id, Name = name.Trim(), isPrivate, userId }, tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
        return id;
    }

    static async Task<Results<Created<RoomRow>, ProblemHttpResult>> Create(CreateRequest request, ClaimsPrincipal user, NpgsqlDataSource db, IOptions<ChatOptions> options, CancellationToken ct)
    {
        if (CheckName(request.Name, options.Value) is { } error) return Problem(400, error);
        await using var connection = await db.OpenConnectionAsync(ct);
        var id = await CreateAsync(connection, user.UserId(), request.Name!, request.IsPrivate, ct);
        return TypedResults.Created($"/api/chat/rooms/{id}", new RoomRow(id, request.Name!.Trim(), request.IsPrivate, false, "moderator", 0));
    }

    static async Task<Results<NoContent, ProblemHttpResult>> Rename(Guid roomId, RenameRequest request, ClaimsPrincipal user, NpgsqlDataSource db, IOptions<ChatOptions> options, CancellationToken ct)
    {
        if (CheckName(request.Name, options.Value) is { } error) return Problem(400, error);
        await using var connection = await db.OpenConnectionAsync(ct);
        if (await ModeratedAsync(connection, roomId, user, ct) is { } refused) return refused;
        await RenameAsync(connection, roomId, request.Name!, ct);
        return TypedResults.NoContent();
    }

    static async Task<Results<NoContent, ProblemHttpResult>> Archive(Guid roomId, ClaimsPrincipal user, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        if (await ModeratedAsync(connection, roomId, user, ct) is { } refused) return refused;
        await ArchiveAsync(connection, roomId, ct);
        return TypedResults.NoContent();
    }

    public static async Task<ProblemHttpResult?> JoinAsync(NpgsqlConnection connection, Guid roomId, ClaimsPrincipal user, CancellationToken ct)
    {
        var room = await RoomAccess.GetAsync(connection, roomId, user.UserId(), ct);
        if (room is null || !room.IsVisibleTo(user)) return Problem(404, "No such room.");
        if (room.IsPrivate && !room.IsMember && !user.IsInRole(Roles.Admin)) return Problem(403, "This room is private: a moderator adds people.");
        if (room.Archived) return Problem(409, "The room is archived.");
        await connection.ExecuteAsync(new CommandDefinition(
            "insert into chat.members (room_id, user_id, role) values (@RoomId, @UserId, 'member') on conflict do nothing",
            new { roomId, UserId = user.UserId() }, cancellationToken: ct));
        return null;
    }

    static async Task<Results<NoContent, ProblemHttpResult>> Join(Guid roomId, ClaimsPrincipal user, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return await JoinAsync(connection, roomId, user, ct) is { } refused ? refused : TypedResults.NoContent();
    }

    static async Task<Results<NoContent, ProblemHttpResult>> Leave(Guid roomId, ClaimsPrincipal user, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return await RemoveMemberAsync(connection, roomId, user.UserId(), ct) ? TypedResults.NoContent() : Problem(404, "You are not in that room.");
    }

    static async Task<Results<Ok<IReadOnlyList<MemberRow>>, ProblemHttpResult>> Members(Guid roomId, ClaimsPrincipal user, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var room = await RoomAccess.GetAsync(connection, roomId, user.UserId(), ct);
        if (room is null || !room.IsVisibleTo(user)) return Problem(404, "No such room.");
        if (!room.IsMember && !user.IsInRole(Roles.Admin)) return Problem(403, "Join the room to see who is in it.");
        return TypedResults.Ok<IReadOnlyList<MemberRow>>((await connection.QueryAsync<MemberRow>(new CommandDefinition(
            "select user_id, role, joined_at from chat.members where room_id = @RoomId order by joined_at", new { roomId }, cancellationToken: ct))).AsList());
    }

    /// <summary>The same answer whether or not the email has an account: a room moderator cannot probe who is registered.</summary>
    static async Task<Results<Accepted<AddMemberResponse>, ProblemHttpResult>> AddMember(Guid roomId, AddMemberRequest request, ClaimsPrincipal user, NpgsqlDataSource db,
        IUserDirectory directory, IAuditLog audit, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        if (await ModeratedAsync(connection, roomId, user, ct) is { } refused) return refused;
        if (CheckEmail(request.Email) is { } invalid) return Problem(400, invalid);
        await AddMemberAsync(connection, roomId, request.Email, request.Moderator, user, directory, audit, ct);
        return TypedResults.Accepted((string?)null, new AddMemberResponse(MemberAddedNeutrally));
    }

    public static string? CheckEmail(string? email) =>
        string.IsNullOrWhiteSpace(email) ? "Give the email of the person to add."
        : email.Trim().Length > 254 ? "An email has at most 254 characters." : null;

    /// <summary>What adding by email answers, account or not (no account enumeration).</summary>
    public const string MemberAddedNeutrally = "Done: if the email belongs to an account here, that person is in the room now.";

    static async Task<Results<NoContent, ProblemHttpResult>> RemoveMember(Guid roomId, Guid userId, ClaimsPrincipal user, NpgsqlDataSource db, IAuditLog audit, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        if (await ModeratedAsync(connection, roomId, user, ct) is { } refused) return refused;
        if (!await RemoveMemberAsync(connection, roomId, userId, ct)) return Problem(404, "That person is not in the room.");
        await audit.RecordAsync(user, "chat.member-removed", $"room {roomId}", new Dictionary<string, string?> { ["member"] = userId.ToString() }, ct: ct);
        return TypedResults.NoContent();
    }

    public static Task RenameAsync(NpgsqlConnection connection, Guid roomId, string name, CancellationToken ct) =>
        connection.ExecuteAsync(new CommandDefinition("update chat.rooms set name = @Name where id = @RoomId", new { roomId, Name = name.Trim() }, cancellationToken: ct));

    public static Task ArchiveAsync(NpgsqlConnection connection, Guid roomId, CancellationToken ct) =>
        connection.ExecuteAsync(new CommandDefinition("update chat.rooms set archived_at = coalesce(archived_at, now()) where id = @RoomId", new { roomId }, cancellationToken: ct));

    public static async Task<bool> RemoveMemberAsync(NpgsqlConnection connection, Guid roomId, Guid userId, CancellationToken ct) =>
        await connection.ExecuteAsync(new CommandDefinition("delete from chat.members where room_id = @RoomId and user_id = @UserId", new { roomId, userId }, cancellationToken: ct)) > 0;

    /// <summary>Adds the person with <paramref name="email"/> (or changes their role), audited; null when nobody has that email.</summary>
    public static async Task<DirectoryUser?> AddMemberAsync(NpgsqlConnection connection, Guid roomId, string? email, bool moderator, ClaimsPrincipal actor,
        IUserDirectory directory, IAuditLog audit, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(email) || await directory.FindByEmailAsync(email.Trim(), ct) is not { } person) return null;
        await connection.ExecuteAsync(new CommandDefinition("""
            insert into chat.members (room_id, user_id, role) values (@RoomId, @UserId, @Role)
            on conflict (room_id, user_id) do update set role = excluded.role
            """, new { roomId, UserId = person.Id, Role = moderator ? "moderator" : "member" }, cancellationToken: ct));
        await audit.RecordAsync(actor, "chat.member-added", $"room {roomId}", new Dictionary<string, string?> { ["member"] = person.Email, ["moderator"] = moderator.ToString() }, ct: ct);
        return person;
    }

    /// <summary>Null when the caller moderates the room; else the refusal (404 when they may not even know of it).</summary>
    static async Task<ProblemHttpResult?> ModeratedAsync(NpgsqlConnection connection, Guid roomId, ClaimsPrincipal user, CancellationToken ct)
    {
        var room = await RoomAccess.GetAsync(connection, roomId, user.UserId(), ct);
        if (room is null || !room.IsVisibleTo(user)) return Problem(404, "No such room.");
        return room.CanModerate(user) ? null : Problem(403, "Only the room's moderators and Admins may do that.");
    }

    public static ProblemHttpResult Problem(int status, string detail) => TypedResults.Problem(detail, statusCode: status, title: status switch
    {
        400 => "Invalid request",
        403 => "Not allowed",
        404 => "Not found",
        409 => "Conflict",
        429 => "Too many requests",
        _ => "Refused",
    });

    // Unread: approved messages by others since the member last read the room. Held and rejected ones never count.
    const string ListSql = """
        select r.id, r.name, r.is_private, r.archived_at is not null as archived, me.role,
               coalesce((select count(*) from chat.messages m where m.room_id = r.id and m.status = 'approved'
                         and m.author_id <> @UserId and m.posted_at > me.last_read_at), 0) as unread
        from chat.rooms r
        left join chat.members me on me.room_id = r.id and me.user_id = @UserId
        where me.user_id is not null or (not r.is_private and r.archived_at is null)
        order by me.user_id is null, lower(r.name), r.id
        """;
}
