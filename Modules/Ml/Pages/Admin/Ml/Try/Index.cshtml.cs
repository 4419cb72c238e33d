using BirbalAI.Platform.Web;
using System.ComponentModel.DataAnnotations;
using BirbalAI.Contracts.Identity;
using BirbalAI.Contracts.Ml;
using BirbalAI.Ml.Moderation;
using BirbalAI.Ml.Registry;
using BirbalAI.Ml.Serving;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;

namespace BirbalAI.Ml.Pages.Admin.Ml.Try;

/// <summary>Paste a text, see what the moderator makes of it: language, scores against thresholds, verdict, explanation.</summary>
[Authorize(Policy = Policies.Annotator)]
sealed class IndexModel(IModerator moderator, ModelRegistry registry, IOptions<ModerationLimits> limits) : PageModel
{
    [BindProperty, Required(ErrorMessage = "Paste a text to moderate.")] public string? Text { get; set; }
    [BindProperty] public string? Model { get; set; }

    public int MaxChars => limits.Value.MaxInputChars;
    public IReadOnlyList<ModelVersion> Versions { get; private set; } = [];
    public ModerationVerdict? Verdict { get; private set; }

    public async Task OnGetAsync(CancellationToken ct) => Versions = await registry.ListAsync(ct);

    public async Task OnPostAsync(CancellationToken ct)
    {
        Versions = await registry.ListAsync(ct);
        if (!ModelState.IsValid)
        {
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }
        if (RequestBody.CheckLimits([Text!], limits.Value, "text") is { } tooLong)
        {
            this.Refuse(tooLong.Message);
            return;
        }
        var (version, unknown) = await RequestBody.ResolveModelAsync(Model, registry, openAiNames: false, ct);
        if (unknown is not null)
        {
            this.Refuse(unknown.Message);
            return;
        }
        try { Verdict = (await moderator.ModerateAsync([Text!], version, ct))[0]; }
        catch (Exception e) when (RequestBody.FromException(e) is { } known) { this.Refuse(known.Message, known.Status); }
    }

}
