using BirbalAI.Platform.Web;
using BirbalAI.Chat.Messages;
using BirbalAI.Contracts.Identity;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Npgsql;

namespace BirbalAI.Chat.Pages.Chat.Review;

/// <summary>Held messages in the rooms the reviewer moderates (all rooms for Admins): release or remove, audited.</summary>
[Authorize(Policy = Policies.Member)]
sealed class IndexModel(NpgsqlDataSource db, ChatMessages messages) : PageModel
{
    public IReadOnlyList<MessageView> Held { get; private set; } = [];
    public string? Message { get; private set; }

    public async Task OnGetAsync(CancellationToken ct) => await LoadAsync(ct);

    public Task<IActionResult> OnPostReleaseAsync(Guid messageId, CancellationToken ct) => DecideAsync(messages.ReleaseAsync(User, messageId, ct), "Released: it is in the room now.", ct);

    public Task<IActionResult> OnPostRemoveAsync(Guid messageId, CancellationToken ct) => DecideAsync(messages.RemoveAsync(User, messageId, ct), "Removed; its author has been told.", ct);

    async Task<IActionResult> DecideAsync(Task<Outcome> decision, string done, CancellationToken ct)
    {
        var outcome = await decision;
        if (outcome.Message is null)
        {
            this.Refuse(outcome.Error!, outcome.Status);
        }
        else Message = done;
        await LoadAsync(ct);
        return Page();
    }

    async Task LoadAsync(CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        Held = await ChatMessages.HeldAsync(connection, User.UserId(), User.IsInRole(Roles.Admin), ct);
    }
}
