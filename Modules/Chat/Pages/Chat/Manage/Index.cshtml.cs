using BirbalAI.Platform.Web;
using BirbalAI.Chat.Rooms;
using BirbalAI.Contracts.Identity;
using Dapper;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;
using Npgsql;

namespace BirbalAI.Chat.Pages.Chat.Manage;

/// <summary>A room's moderators (and Admins) rename it, add and remove people, make moderators, archive it.</summary>
[Authorize(Policy = Policies.Member)]
sealed class IndexModel(NpgsqlDataSource db, IUserDirectory directory, IAuditLog audit, IOptions<ChatOptions> options) : PageModel
{
    public sealed record Member(Guid UserId, string Name, string Role);

    public Membership Room { get; private set; } = null!;
    public IReadOnlyList<Member> Members { get; private set; } = [];
    public string? Message { get; private set; }
    public int MaxName => options.Value.MaxRoomNameLength;

    public async Task<IActionResult> OnGetAsync(Guid roomId, bool asked, CancellationToken ct)
    {
        if (await LoadAsync(roomId, ct) is { } refused) return refused;
        if (asked) Message = RoomsApi.MemberAddedNeutrally;
        return Page();
    }

    public Task<IActionResult> OnPostRenameAsync(Guid roomId, string? name, CancellationToken ct) => ActAsync(roomId, async connection =>
    {
        if (RoomsApi.CheckName(name, options.Value) is { } error) return error;
        await RoomsApi.RenameAsync(connection, roomId, name!, ct);
        Message = "Renamed.";
        return null;
    }, ct);

    /// <summary>
    /// Answers alike whether or not the email has an account (no account enumeration): the same redirect, and the
    /// page it leads to says the same neutral sentence.
    /// </summary>
    public async Task<IActionResult> OnPostAddAsync(Guid roomId, string? email, bool moderator, CancellationToken ct)
    {
        if (RoomsApi.CheckEmail(email) is { } invalid) return await ActAsync(roomId, _ => Task.FromResult<string?>(invalid), ct);
        if (await LoadAsync(roomId, ct) is { } refused) return refused;
        await using (var connection = await db.OpenConnectionAsync(ct))
            await RoomsApi.AddMemberAsync(connection, roomId, email, moderator, User, directory, audit, ct);
        return Redirect($"/chat/rooms/{roomId}/manage?asked=true");
    }

    public Task<IActionResult> OnPostRemoveAsync(Guid roomId, Guid userId, CancellationToken ct) => ActAsync(roomId, async connection =>
    {
        if (!await RoomsApi.RemoveMemberAsync(connection, roomId, userId, ct)) return "That person is not in the room.";
        await audit.RecordAsync(User, "chat.member-removed", $"room {roomId}", new Dictionary<string, string?> { ["member"] = userId.ToString() }, ct: ct);
        Message = "Removed from the room.";
        return null;
    }, ct);

    public Task<IActionResult> OnPostArchiveAsync(Guid roomId, CancellationToken ct) => ActAsync(roomId, async connection =>
    {
        await RoomsApi.ArchiveAsync(connection, roomId, ct);
        Message = "Archived: the room is read-only now.";
        return null;
    }, ct);

    /// <summary>Runs <paramref name="act"/> for a moderator of the room; its string result is a refusal shown on the page.</summary>
    async Task<IActionResult> ActAsync(Guid roomId, Func<NpgsqlConnection, Task<string?>> act, CancellationToken ct)
    {
        if (await LoadAsync(roomId, ct) is { } refused) return refused;
        await using (var connection = await db.OpenConnectionAsync(ct))
            if (await act(connection) is { } error)
            {
                this.Refuse(error, StatusCodes.Status400BadRequest);
            }
        await LoadAsync(roomId, ct);
        return Page();
    }

    async Task<IActionResult?> LoadAsync(Guid roomId, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var room = await RoomAccess.GetAsync(connection, roomId, User.UserId(), ct);
        if (room is null || !room.IsVisibleTo(User)) return NotFound();
        if (!room.CanModerate(User)) return Forbid();
        Room = room;
        var rows = (await connection.QueryAsync<(Guid UserId, string Role)>(new CommandDefinition(
            "select user_id, role from chat.members where room_id = @RoomId order by joined_at", new { roomId }, cancellationToken: ct))).ToList();
        var names = await directory.NamesAsync([.. rows.Select(r => r.UserId)], ct);
        Members = [.. rows.Select(r => new Member(r.UserId, names.GetValueOrDefault(r.UserId, "(account gone)"), r.Role))];
        return null;
    }
}
