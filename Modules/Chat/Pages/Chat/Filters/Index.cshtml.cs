using BirbalAI.Platform.Web;
using System.Globalization;
using BirbalAI.Chat.Filters;
using BirbalAI.Contracts.Identity;
using BirbalAI.Contracts.Ml;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Npgsql;

namespace BirbalAI.Chat.Pages.Chat.Filters;

/// <summary>The member's own content filters: per category, blur messages that score above a level.</summary>
[Authorize(Policy = Policies.Member)]
sealed class IndexModel(NpgsqlDataSource db) : PageModel
{
    /// <summary>The categories offered (the default taxonomy; the API accepts any category name).</summary>
    public static IReadOnlyList<string> Categories => ModerationCategories.Default;

    public IReadOnlyDictionary<string, float> Levels { get; private set; } = new Dictionary<string, float>();
    public string? Message { get; private set; }

    public async Task OnGetAsync(CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        Levels = await ContentFilters.LevelsAsync(connection, User.UserId(), ct);
    }

    /// <summary>Form fields "level:{category}": empty means no filter; else a number from 0 to 1.</summary>
    public async Task OnPostAsync(CancellationToken ct)
    {
        var levels = new Dictionary<string, float>();
        foreach (var category in Categories)
        {
            var text = Request.Form[$"level:{category}"].ToString().Trim();
            if (text.Length == 0) continue;
            if (!float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var level) || level is < 0 or > 1)
            {
                this.Refuse($"{category}: a level is a number from 0 to 1, or empty for no filter.", StatusCodes.Status400BadRequest);
                Levels = levels;
                return;
            }
            levels[category] = level;
        }
        await using var connection = await db.OpenConnectionAsync(ct);
        await ContentFilters.SaveAsync(connection, User.UserId(), levels, ct);
        Levels = levels;
        Message = levels.Count == 0 ? "No filters: nothing is blurred for you." : "Saved: messages above these levels are blurred for you.";
    }
}
