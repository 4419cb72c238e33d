using BirbalAI.Annotation.Projects;
using BirbalAI.Annotation.Quality;
using BirbalAI.Contracts.Identity;
using BirbalAI.Platform.Web;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Npgsql;

namespace BirbalAI.Annotation.Pages.Annotation.Projects;

/// <summary>The review page: labels side by side; accept (the majority's) or correct; bulk accept of unanimous tasks.</summary>
[Authorize(Policy = Policies.Annotator)]
sealed class ReviewModel(NpgsqlDataSource db, Reviews reviews) : PageModel
{
    public ProjectRow Project { get; private set; } = null!;
    public IReadOnlyList<ReviewItem> Waiting { get; private set; } = [];
    public string? Message { get; private set; }

    public async Task<IActionResult> OnGetAsync(Guid projectId, CancellationToken ct) => await LoadAsync(projectId, ct) ? Page() : NotFound();

    public async Task<IActionResult> OnPostDecideAsync(Guid projectId, Guid taskId, string? action, string[]? categories, CancellationToken ct)
    {
        // Accept takes the majority's categories as they were; Correct takes the ticked ones.
        var outcome = await reviews.AcceptAsync(User, taskId, action == "correct" ? categories ?? [] : null, ct);
        if (outcome.Error is not null) this.Refuse(outcome.Error, outcome.Status);
        else Message = outcome.Value ? "Corrected and accepted." : "Accepted.";
        return await LoadAsync(projectId, ct) ? Page() : NotFound();
    }

    public async Task<IActionResult> OnPostAcceptUnanimousAsync(Guid projectId, CancellationToken ct)
    {
        var outcome = await reviews.AcceptUnanimousAsync(User, projectId, ct);
        if (outcome.Error is not null) return NotFound();
        Message = $"Accepted {outcome.Value} unanimous tasks.";
        return await LoadAsync(projectId, ct) ? Page() : NotFound();
    }

    async Task<bool> LoadAsync(Guid projectId, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        if (await ProjectAccess.ReachableAsync(connection, projectId, User, ct) is not { } project) return false;
        Project = project;
        Waiting = await reviews.WaitingAsync(connection, projectId, 200, User.UserId(), ct);
        return true;
    }
}
