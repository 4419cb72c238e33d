using BirbalAI.Platform.Web;
using System.Text.Json;
using BirbalAI.Chat.Filters;
using BirbalAI.Chat.Messages;
using BirbalAI.Chat.Rooms;
using BirbalAI.Contracts.Identity;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;
using Npgsql;

namespace BirbalAI.Chat.Pages.Chat.Rooms;

/// <summary>A room: history (newest page first, "load earlier" pages back), the send form, and live updates (chat.js).</summary>
[Authorize(Policy = Policies.Member)]
sealed class RoomModel(NpgsqlDataSource db, ChatMessages messages, IOptions<ChatOptions> options) : PageModel
{
    public Membership Room { get; private set; } = null!;
    public IReadOnlyList<MessageView> Messages { get; private set; } = [];
    public IReadOnlyDictionary<string, float> Filters { get; private set; } = new Dictionary<string, float>();
    public bool HasEarlier { get; private set; }
    public Guid? Before { get; private set; }
    public int MaxLength => options.Value.MaxMessageLength;
    [BindProperty] public string? Text { get; set; }

    public string FiltersJson => JsonSerializer.Serialize(Filters);
    public bool Blurred(MessageView m) => m.AuthorId != User.UserId() && ContentFilters.Blurs(Filters, m.Scores);

    public async Task<IActionResult> OnGetAsync(Guid roomId, Guid? before, CancellationToken ct) => await LoadAsync(roomId, before, ct) ?? Page();

    /// <summary>Without JavaScript the form posts here; with it, chat.js calls the API. A refusal keeps the typed text in the box.</summary>
    public async Task<IActionResult> OnPostAsync(Guid roomId, CancellationToken ct)
    {
        var outcome = await messages.PostAsync(User, roomId, Text, ct);
        if (outcome.Message is not null) return Redirect($"/chat/rooms/{roomId}");
        if (await LoadAsync(roomId, null, ct) is { } refused) return refused;
        this.Refuse(outcome.Error!, outcome.Status);
        if (outcome.RetryAfter is { } wait) Response.Headers.RetryAfter = ((int)wait.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Page();
    }

    public async Task<IActionResult> OnPostLeaveAsync(Guid roomId, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await RoomsApi.RemoveMemberAsync(connection, roomId, User.UserId(), ct);
        return Redirect("/chat");
    }

    async Task<IActionResult?> LoadAsync(Guid roomId, Guid? before, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var room = await RoomAccess.GetAsync(connection, roomId, User.UserId(), ct);
        if (room is null || !room.IsVisibleTo(User)) return NotFound();
        if (!room.IsMember) return Redirect("/chat");
        Room = room;
        Before = before;
        var page = await ChatMessages.HistoryAsync(connection, roomId, User.UserId(), before, options.Value.PageSize + 1, ct);
        HasEarlier = page.Count > options.Value.PageSize;
        Messages = HasEarlier ? page.Skip(1).ToList() : page;
        Filters = await ContentFilters.LevelsAsync(connection, User.UserId(), ct);
        if (before is null) await RoomAccess.MarkReadAsync(connection, roomId, User.UserId(), ct);
        return null;
    }
}
