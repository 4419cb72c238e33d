using BirbalAI.Contracts.Identity;
using BirbalAI.Ml.Registry;
using BirbalAI.Ml.Rescoring;
using BirbalAI.Platform.Web;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;

namespace BirbalAI.Ml.Pages.Admin.Ml.Rescoring;

/// <summary>Re-scoring runs (Admins): the form that starts one (a registered version, the sources) and the runs with their progress.</summary>
[Authorize(Policy = Policies.Admin)]
sealed class IndexModel(RescoringRuns runs, ModelRegistry registry, IOptions<RescoringOptions> options) : PageModel
{
    public sealed class Form
    {
        public string Version { get; set; } = "";
        public List<string> Sources { get; set; } = [.. RescoringSources.All];
    }

    [BindProperty] public Form Start { get; set; } = new();
    public IReadOnlyList<ModelVersion> Versions { get; private set; } = [];
    public int? Production { get; private set; }
    public IReadOnlyList<RescoringRun> Runs { get; private set; } = [];
    public RescoringOptions Options => options.Value;

    public async Task OnGetAsync(CancellationToken ct)
    {
        await LoadAsync(ct);
        Start.Version = Production is { } p ? $"v{p}" : Versions.FirstOrDefault() is { } v ? $"v{v.Number}" : "";
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        var started = await runs.StartAsync(Start.Version ?? "", Start.Sources ?? [], "page", User.UserIdOrNull(), ct);
        if (started.Run is { } run) return RedirectToPage("Run", new { number = run.Number });
        await LoadAsync(ct);
        this.Refuse(started.Error!);
        return Page();
    }

    async Task LoadAsync(CancellationToken ct)
    {
        Versions = [.. (await registry.ListAsync(ct)).OrderByDescending(v => v.Number)];
        Production = (await registry.ProductionAsync(ct))?.Number;
        Runs = await runs.ListAsync(50, ct);
    }
}
