using BirbalAI.Annotation.Import;
using BirbalAI.Annotation.Projects;
using BirbalAI.Annotation.Quality;
using BirbalAI.Contracts.Identity;
using BirbalAI.Platform.Web;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;
using Npgsql;

namespace BirbalAI.Annotation.Pages.Annotation.Projects;

/// <summary>A project's page: progress, agreement, golden accuracy, throughput, disagreements; settings for Admins.</summary>
[Authorize(Policy = Policies.Annotator)]
sealed class ProjectModel(NpgsqlDataSource db, IOptions<AnnotationOptions> options) : PageModel
{
    public ProjectRow Project { get; private set; } = null!;
    public ProjectFigures Figures { get; private set; } = null!;
    public IReadOnlyList<ImportTasks.ImportStatus> Imports { get; private set; } = [];
    public string? Message { get; private set; }

    public async Task<IActionResult> OnGetAsync(Guid projectId, CancellationToken ct) => await LoadAsync(projectId, ct) ? Page() : NotFound();

    public async Task<IActionResult> OnPostSettingsAsync(Guid projectId, int? overlap, int? reservationMinutes, float? goldenRate, float? secondReviewShare,
        string? extraCategories, CancellationToken ct)
    {
        if (!User.IsInRole(Roles.Admin)) return Forbid();
        var extras = extraCategories?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var outcome = await ProjectsApi.UpdateAsync(db, User, projectId, new ProjectsApi.SettingsRequest(overlap, reservationMinutes, goldenRate, secondReviewShare, extras, null),
            options.Value, ct);
        if (outcome is { } refusal) this.Refuse(refusal.Error, refusal.Status);
        else Message = "Settings saved.";
        return await LoadAsync(projectId, ct) ? Page() : NotFound();
    }

    async Task<bool> LoadAsync(Guid projectId, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        if (await ProjectAccess.ReachableAsync(connection, projectId, User, ct) is not { } project) return false;
        Project = project;
        Figures = await ProjectStats.ReadAsync(connection, projectId, project.Labels, ct);
        if (User.IsInRole(Roles.Admin)) Imports = await ImportTasks.StatusAsync(connection, projectId, ct);
        return true;
    }
}
