using System.Text.Json;
using BirbalAI.Annotation.Projects;
using BirbalAI.Contracts.Identity;
using Dapper;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;
using Npgsql;

namespace BirbalAI.Annotation.Pages.Annotation.Projects;

/// <summary>
/// The labelling page: one task at a time, keyboard first (annotation.js drives the queue API): a key per category, Enter
/// submits and shows the next task (fetched before), S skips with a reason, U undoes, R reveals, ? shows the keys.
/// </summary>
[Authorize(Policy = Policies.Annotator)]
sealed class LabelModel(NpgsqlDataSource db, Guidelines guidelines, IOptions<AnnotationOptions> options) : PageModel
{
    /// <summary>Keys for categories, in schema order; S, U, R are the page's own.</summary>
    public const string KeyOrder = "1234567890abcdefghijklmnopqtvwxyz";

    public ProjectRow Project { get; private set; } = null!;
    public string Hiding { get; private set; } = "blur";
    public IReadOnlyList<(string Category, char Key)> Keys { get; private set; } = [];
    public string GuidelinesHtml { get; private set; } = "";
    public int UndoSeconds => options.Value.UndoSeconds;
    public int MaxNote => options.Value.MaxNoteLength;
    public int MaxSkipReason => options.Value.MaxSkipReasonLength;
    public string KeysJson => JsonSerializer.Serialize(Keys.ToDictionary(k => k.Key.ToString(), k => k.Category));
    public bool Severe(string category) => AnnotationOptions.IsSevere(category, options.Value.SeverePatterns);

    public async Task<IActionResult> OnGetAsync(Guid projectId, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        if (await ProjectAccess.ReachableAsync(connection, projectId, User, ct) is not { } project) return NotFound();
        Project = project;
        Keys = [.. project.Labels.Take(KeyOrder.Length).Select((c, i) => (c, KeyOrder[i]))];
        GuidelinesHtml = guidelines.ToHtml(project.Guidelines);
        Hiding = await connection.ExecuteScalarAsync<string?>(new CommandDefinition(
            "select hiding from annotation.reviewer_settings where user_id = @UserId", new { UserId = User.UserId() }, cancellationToken: ct)) ?? "blur";
        return Page();
    }

    /// <summary>The reviewer's own way of hiding severe items: blurred, or faded greyscale.</summary>
    public async Task<IActionResult> OnPostHidingAsync(Guid projectId, string? hiding, CancellationToken ct)
    {
        if (hiding is not ("blur" or "greyscale")) return BadRequest();
        await using var connection = await db.OpenConnectionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition("""
            insert into annotation.reviewer_settings (user_id, hiding) values (@UserId, @Hiding)
            on conflict (user_id) do update set hiding = excluded.hiding
            """, new { UserId = User.UserId(), hiding }, cancellationToken: ct));
        return Redirect($"/annotation/projects/{projectId}/label");
    }
}
