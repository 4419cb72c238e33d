using BirbalAI.Contracts.Identity;
using BirbalAI.Documents.Library;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;

namespace BirbalAI.Documents.Pages.Documents;

/// <summary>The library: documents the reader may see, filtered by status, owner (mine) and language; or full-text search results.</summary>
[Authorize(Policy = Policies.Member)]
sealed class IndexModel(DocumentAccess access, IOptions<DocumentsOptions> options) : PageModel
{
    [BindProperty(SupportsGet = true)] public string? Status { get; set; }
    [BindProperty(SupportsGet = true)] public bool Mine { get; set; }
    [BindProperty(SupportsGet = true)] public string? Language { get; set; }
    [BindProperty(SupportsGet = true)] public string? Q { get; set; }

    public IReadOnlyList<DocumentView> Documents { get; private set; } = [];
    public int StatusPollSeconds => options.Value.StatusPollSeconds;
    public IReadOnlyList<SearchHit>? Hits { get; private set; }
    public static readonly string[] Statuses = ["processing", "approved", "partially-held", "held", "partially-rejected", "rejected", "failed"];

    public async Task OnGetAsync(CancellationToken ct)
    {
        if (!string.IsNullOrWhiteSpace(Q))
        {
            Hits = await access.SearchAsync(User, Q.Length > 200 ? Q[..200] : Q, options.Value.PageSize, ct);
            return;
        }
        var status = Statuses.Contains(Status) ? Status : null;
        Documents = await access.ListAsync(User, status, Mine ? User.UserId() : null, string.IsNullOrWhiteSpace(Language) ? null : Language.Trim(), options.Value.PageSize, ct);
    }
}
