using BirbalAI.Platform.Web;
using BirbalAI.Contracts.Identity;
using BirbalAI.Ml.Policy;
using BirbalAI.Ml.Serving;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace BirbalAI.Ml.Pages.Admin.Ml.Policy;

[Authorize(Policy = Policies.Admin)]
sealed class IndexModel(PolicyStore store, ModelCatalog catalog) : PageModel
{
    public sealed class Row
    {
        public string Category { get; set; } = "";
        public float Review { get; set; }
        public float Reject { get; set; }
    }

    [BindProperty] public List<Row> Rows { get; set; } = [];
    [BindProperty] public string? Note { get; set; }
    [BindProperty] public int ExpectedVersion { get; set; }

    public ModerationPolicy Current { get; private set; } = null!;
    public IReadOnlyList<ModerationPolicy> History { get; private set; } = [];
    public string? Message { get; private set; }

    public async Task OnGetAsync(CancellationToken ct)
    {
        await LoadAsync(ct);
        ExpectedVersion = Current.Version;
        Rows = [.. PolicyCategories.Known(catalog).Select(c => new Row { Category = c, Review = Current.For(c).Review, Reject = Current.For(c).Reject })];
    }

    public async Task OnPostAsync(CancellationToken ct)
    {
        if (!ModelState.IsValid)
        {
            await LoadAsync(ct);
            this.Refuse("Every threshold must be a number from 0 to 1.");
            return;
        }
        var thresholds = new Dictionary<string, Thresholds>();
        foreach (var row in Rows) thresholds[row.Category] = new Thresholds(row.Review, row.Reject);
        var result = await store.SaveAsync(thresholds, PolicyCategories.Known(catalog), ExpectedVersion, string.IsNullOrWhiteSpace(Note) ? null : Note.Trim(), User, ct);
        await LoadAsync(ct);
        switch (result)
        {
            case PolicyStore.Saved saved:
                Message = $"Saved as version {saved.Policy.Version}; every replica uses it now.";
                ExpectedVersion = saved.Policy.Version;
                Note = null;
                ModelState.Clear();
                break;
            case PolicyStore.Conflict conflict:
                this.Refuse($"Someone saved version {conflict.CurrentVersion} while you were editing. Your values are still below; reload to see theirs.", StatusCodes.Status409Conflict);
                break;
            case PolicyStore.Invalid invalid:
                foreach (var error in invalid.Errors) ModelState.AddModelError("", error);
                Response.StatusCode = StatusCodes.Status400BadRequest;
                break;
        }
    }


    async Task LoadAsync(CancellationToken ct)
    {
        Current = await store.CurrentAsync(ct);
        History = await store.HistoryAsync(20, ct);
    }
}
