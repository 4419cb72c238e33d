using BirbalAI.Annotation.Import;
using BirbalAI.Annotation.Projects;
using BirbalAI.Annotation.Quality;
using BirbalAI.Contracts.Identity;
using BirbalAI.Platform.Web;
using Hangfire;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;
using Npgsql;

namespace BirbalAI.Annotation.Pages.Annotation.Projects;

/// <summary>A project's page: progress, agreement, golden accuracy, throughput, disagreements; settings, import and export for Admins.</summary>
[Authorize(Policy = Policies.Annotator)]
sealed class ProjectModel(NpgsqlDataSource db, IOptions<AnnotationOptions> options, IBackgroundJobClient jobs) : PageModel
{
    public ProjectRow Project { get; private set; } = null!;
    public ProjectFigures Figures { get; private set; } = null!;
    public IReadOnlyList<ImportTasks.ImportStatus> Imports { get; private set; } = [];
    public string? Message { get; private set; }

    /// <summary>The import's bad rows: why nothing was imported, or the rows skipped.</summary>
    public IReadOnlyList<ImportTasks.RowError> BadRows { get; private set; } = [];

    public string ImportFormat { get; private set; } = ImportFormats.Jsonl;
    public bool SkipBadRows { get; private set; }
    public AnnotationOptions Limits => options.Value;

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

    /// <summary>An uploaded file through the API's own import (<see cref="ImportTasks.SubmitAsync"/>): imported, queued as a job, or refused with its bad rows.</summary>
    public async Task<IActionResult> OnPostImportAsync(Guid projectId, IFormFile? file, string? format, bool skipBadRows, CancellationToken ct)
    {
        if (!User.IsInRole(Roles.Admin)) return Forbid();
        ImportFormat = format ?? ImportFormats.Jsonl;
        SkipBadRows = skipBadRows;
        if (file is null || file.Length == 0) this.Refuse("Choose a file to import.");
        else
        {
            var name = Path.GetFileName(file.FileName);
            await using var body = file.OpenReadStream();
            var submitted = await ImportTasks.SubmitAsync(db, jobs, User, projectId, format, skipBadRows, body, file.Length, options.Value, ct);
            if (submitted.Status == StatusCodes.Status404NotFound) return NotFound();
            if (submitted.Report is { } report)
            {
                BadRows = report.Skipped;
                Message = $"{report.Imported} imported from {name}" + (report.Skipped.Count > 0 ? $"; {BadRowCount(report.Skipped.Count)} skipped (listed below)." : ".");
            }
            else if (submitted.Queued is { } queued)
                Message = $"{name} ({queued.Bytes / 1024} KiB) is over Annotation:ImportJobThresholdBytes: queued as a job; follow it under Large imports (reload).";
            else if (submitted.Invalid is { Errors: [_, ..] errors })
            {
                BadRows = errors;
                this.Refuse($"{BadRowCount(errors.Count)} in {name}; nothing was imported. Fix them, or tick \"Skip bad rows\" to import the others.");
            }
            else this.Refuse(submitted.Error!, submitted.Status);
        }
        return await LoadAsync(projectId, ct) ? Page() : NotFound();
    }

    static string BadRowCount(int n) => n == 1 ? "1 bad row" : $"{n} bad rows";

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
