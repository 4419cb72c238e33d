using BirbalAI.Contracts.Identity;
using BirbalAI.Platform.Messaging;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace BirbalAI.Web.Pages.Admin.Platform;

[Authorize(Policy = Policies.Admin)]
public sealed class DeadLettersModel(DeadLetters deadLetters, IAuditLog audit) : PageModel
{
    public IReadOnlyList<DeadLetter> Letters { get; private set; } = [];
    public string? Message { get; private set; }

    public async Task OnGetAsync(CancellationToken ct) => Letters = await deadLetters.PeekAsync(DeadLetters.MaxShown, ct);

    public async Task<IActionResult> OnPostAsync(string? messageId, CancellationToken ct)
    {
        try
        {
            if (string.IsNullOrEmpty(messageId) || messageId.Length > 100 || !await deadLetters.RequeueAsync(messageId, ct))
            {
                ModelState.AddModelError("", "That message is not parked any more (already requeued?).");
                Response.StatusCode = StatusCodes.Status404NotFound;
            }
            else
            {
                await audit.RecordAsync(User, "platform.dead-letter-requeued", messageId, ct: ct);
                Message = $"Message {messageId} is back in its queue.";
            }
        }
        catch (InvalidOperationException e)
        {
            ModelState.AddModelError("", $"Message {messageId} was not requeued: {e.Message}.");
            Response.StatusCode = StatusCodes.Status409Conflict;
        }
        Letters = await deadLetters.PeekAsync(DeadLetters.MaxShown, ct);
        return Page();
    }
}
