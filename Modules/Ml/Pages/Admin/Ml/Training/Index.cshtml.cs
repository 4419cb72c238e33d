using BirbalAI.Contracts.Identity;
using BirbalAI.Ml.Datasets;
using BirbalAI.Ml.Training;
using BirbalAI.Platform.Web;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace BirbalAI.Ml.Pages.Admin.Ml.Training;

/// <summary>Training jobs (Admins): the form that starts one (snapshot, kind, hyperparameters with defaults) and the jobs with their progress.</summary>
[Authorize(Policy = Policies.Admin)]
sealed class IndexModel(TrainingJobs jobs, Snapshots snapshots) : PageModel
{
    public sealed class Form
    {
        public string Snapshot { get; set; } = "";
        public string Kind { get; set; } = ModelKinds.Ngram;
        public int Epochs { get; set; } = new TrainingParameters().Epochs;
        public int Dim { get; set; } = new TrainingParameters().Dim;
        public float LearningRate { get; set; } = new TrainingParameters().LearningRate;
        public int Buckets { get; set; } = new TrainingParameters().Buckets;
        public int MinN { get; set; } = new TrainingParameters().MinN;
        public int MaxN { get; set; } = new TrainingParameters().MaxN;
        public int WordNgrams { get; set; } = new TrainingParameters().WordNgrams;
        public int Seed { get; set; } = new TrainingParameters().Seed;
        public bool EarlyStopping { get; set; }
    }

    [BindProperty] public Form Start { get; set; } = new();
    public IReadOnlyList<Snapshot> Snapshots { get; private set; } = [];
    public IReadOnlyList<TrainingJob> Jobs { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken ct)
    {
        await LoadAsync(ct);
        Start.Snapshot = Snapshots.FirstOrDefault()?.Name ?? "";
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        if (!ModelState.IsValid)
        {
            await LoadAsync(ct);
            this.Refuse("Every hyperparameter must be a number.");
            return Page();
        }
        var f = Start;
        var started = await jobs.StartAsync(f.Snapshot, f.Kind, new TrainingParameters(f.Epochs, f.Dim, f.LearningRate, f.Buckets, f.MinN, f.MaxN, f.WordNgrams, f.Seed, f.EarlyStopping),
            "page", User.UserIdOrNull(), snapshots, ct);
        if (started.Job is { } job) return RedirectToPage("Job", new { number = job.Number });
        await LoadAsync(ct);
        this.Refuse(started.Error!);
        return Page();
    }

    async Task LoadAsync(CancellationToken ct)
    {
        Snapshots = await snapshots.ListAsync(ct);
        Jobs = await jobs.ListAsync(50, ct);
    }
}
