using BirbalAI.Contracts.Identity;
using BirbalAI.Documents.Library;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;

namespace BirbalAI.Documents.Pages.Documents;

/// <summary>One document: its status (followed live over /hubs/documents) and its chunks, held and rejected ones marked with their categories.</summary>
[Authorize(Policy = Policies.Member)]
sealed class DocumentModel(DocumentAccess access, IOptions<DocumentsOptions> options) : PageModel
{
    public int StatusPollSeconds => options.Value.StatusPollSeconds;
    public DocumentView Document { get; private set; } = null!;
    public IReadOnlyList<ChunkView> Chunks { get; private set; } = [];

    public async Task<IActionResult> OnGetAsync(Guid documentId, CancellationToken ct)
    {
        if (await access.GetAsync(User, documentId, ct) is not { } found) return NotFound();
        (Document, Chunks) = found;
        return Page();
    }
}
