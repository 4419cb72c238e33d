using BirbalAI.Contracts.Identity;
using BirbalAI.Ml.Rescoring;
using BirbalAI.Platform.Web;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace BirbalAI.Ml.Pages.Admin.Ml.Rescoring;

/// <summary>One re-scoring run (Admins): progress per partition (the page reloads itself while it runs), the summary of verdicts that would change, cancel, apply.</summary>
[Authorize(Policy = Policies.Admin)]
sealed class RunModel(RescoringRuns runs) : PageModel
{
    public RescoringRun Run { get; private set; } = null!;
    public IReadOnlyList<RescoringPartition> Partitions { get; private set; } = [];
    public RescoringSummary Summary { get; private set; } = null!;

    public async Task<IActionResult> OnGetAsync(int number, CancellationToken ct) =>
        await LoadAsync(number, ct) ? Page() : NotFound();

    public async Task<IActionResult> OnPostCancelAsync(int number, CancellationToken ct)
    {
        if (!await LoadAsync(number, ct)) return NotFound();
        if (await runs.CancelAsync(Run.Id, ct) == false)
        {
            this.Refuse("The run has ended; there is nothing to cancel.", 409);
            return Page();
        }
        return RedirectToPage("Run", new { number });
    }

    public async Task<IActionResult> OnPostApplyAsync(int number, CancellationToken ct)
    {
        if (!await LoadAsync(number, ct)) return NotFound();
        var applied = await runs.ApplyAsync(Run.Id, User.UserIdOrNull(), ct);
        if (applied.Error is { } error)
        {
            this.Refuse(error, applied.Status);
            return Page();
        }
        return RedirectToPage("Run", new { number });
    }

    async Task<bool> LoadAsync(int number, CancellationToken ct)
    {
        if (await runs.FindAsync(number, ct) is not { } run) return false;
        Run = run;
        Partitions = await runs.PartitionsAsync(run.Id, ct);
        Summary = await runs.SummaryAsync(run.Id, ct);
        return true;
    }
}
