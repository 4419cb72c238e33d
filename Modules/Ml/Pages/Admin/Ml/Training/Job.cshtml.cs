using BirbalAI.Contracts.Identity;
using BirbalAI.Ml.Training;
using BirbalAI.Platform.Web;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace BirbalAI.Ml.Pages.Admin.Ml.Training;

/// <summary>One training job (Admins): live progress (the page reloads itself while the job runs), the log, cancel.</summary>
[Authorize(Policy = Policies.Admin)]
sealed class JobModel(TrainingJobs jobs) : PageModel
{
    public TrainingJob Job { get; private set; } = null!;

    public async Task<IActionResult> OnGetAsync(int number, CancellationToken ct)
    {
        if (await jobs.FindAsync(number, ct) is not { } job) return NotFound();
        Job = job;
        return Page();
    }

    public async Task<IActionResult> OnPostCancelAsync(int number, CancellationToken ct)
    {
        if (await jobs.FindAsync(number, ct) is not { } job) return NotFound();
        if (await jobs.CancelAsync(job.Id, User.UserIdOrNull(), ct) == false)
        {
            Job = job;
            this.Refuse("The job has ended; there is nothing to cancel.", 409);
            return Page();
        }
        return RedirectToPage("Job", new { number });
    }
}
