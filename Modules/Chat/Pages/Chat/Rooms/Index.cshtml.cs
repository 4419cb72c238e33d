using BirbalAI.Platform.Web;
using BirbalAI.Chat.Rooms;
using BirbalAI.Contracts.Identity;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;
using Npgsql;

namespace BirbalAI.Chat.Pages.Chat.Rooms;

[Authorize(Policy = Policies.Member)]
sealed class IndexModel(NpgsqlDataSource db, IOptions<ChatOptions> options) : PageModel
{
    public IReadOnlyList<RoomsApi.RoomRow> Rooms { get; private set; } = [];
    [BindProperty] public string? Name { get; set; }
    [BindProperty] public bool IsPrivate { get; set; }
    public int MaxName => options.Value.MaxRoomNameLength;

    public async Task OnGetAsync(CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        Rooms = await RoomsApi.ListAsync(connection, User.UserId(), ct);
    }

    public async Task<IActionResult> OnPostCreateAsync(CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        if (RoomsApi.CheckName(Name, options.Value) is { } error)
        {
            this.Refuse(error, StatusCodes.Status400BadRequest);
            Rooms = await RoomsApi.ListAsync(connection, User.UserId(), ct);
            return Page();
        }
        var id = await RoomsApi.CreateAsync(connection, User.UserId(), Name!, IsPrivate, ct);
        return Redirect($"/chat/rooms/{id}");
    }

    public async Task<IActionResult> OnPostJoinAsync(Guid roomId, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        if (await RoomsApi.JoinAsync(connection, roomId, User, ct) is { } refused)
        {
            this.Refuse(refused.ProblemDetails.Detail ?? "You cannot join that room.", refused.StatusCode);
            Rooms = await RoomsApi.ListAsync(connection, User.UserId(), ct);
            return Page();
        }
        return Redirect($"/chat/rooms/{roomId}");
    }
}
