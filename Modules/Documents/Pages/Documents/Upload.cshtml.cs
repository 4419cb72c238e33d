using BirbalAI.Contracts.Chat;
using BirbalAI.Contracts.Identity;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;

namespace BirbalAI.Documents.Pages.Documents;

/// <summary>The upload form; the browser sends the file to POST /api/documents itself (with progress) and opens the document.</summary>
[Authorize(Policy = Policies.Member)]
sealed class UploadModel(IChatMembership chat, IOptions<DocumentsOptions> options) : PageModel
{
    public IReadOnlyList<RoomMembership> Rooms { get; private set; } = [];
    public DocumentsOptions Limits => options.Value;

    public async Task OnGetAsync(CancellationToken ct) => Rooms = await chat.RoomsOfAsync(User.UserId(), ct);
}
