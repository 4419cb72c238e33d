using BirbalAI.Contracts.Identity;
using BirbalAI.Ml.Datasets;
using BirbalAI.Ml.Evaluation;
using BirbalAI.Ml.Registry;
using BirbalAI.Ml.Serving;
using BirbalAI.Platform.Web;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;

namespace BirbalAI.Ml.Pages.Admin.Ml.Models;

/// <summary>
/// One model version (Admins): what it is made of and trained on, its test-split plots, a comparison with another version on
/// this version's test split (both scored now), and promote / roll back (audited; every replica swaps).
/// </summary>
[Authorize(Policy = Policies.Admin)]
sealed class VersionModel(ModelRegistry registry, Snapshots snapshots, ModelCatalog catalog, IOptions<BirbalAI.Ml.Training.TrainingOptions> options) : PageModel
{
    public sealed record Delta(string Category, int Support, double ThisF1, double OtherF1, double ThisPrecision, double OtherPrecision,
        double ThisRecall, double OtherRecall, double ThisPrAuc, double OtherPrAuc);

    public sealed record Comparison(ModelVersion Other, int Examples, double ThisMacroF1, double OtherMacroF1, IReadOnlyList<Delta> Categories,
        IReadOnlyDictionary<string, (double This, double Other)> Languages);

    public ModelVersion Version { get; private set; } = null!;
    public ModelVersion? Production { get; private set; }
    public IReadOnlyList<ModelVersion> Others { get; private set; } = [];
    public TestReport? Report { get; private set; }
    public Snapshot? Snapshot { get; private set; }
    public Comparison? Compared { get; private set; }
    public string? Message { get; private set; }
    public int? CompareWith { get; private set; }

    public async Task<IActionResult> OnGetAsync(int number, int? compare, CancellationToken ct)
    {
        if (!await LoadAsync(number, ct)) return NotFound();
        CompareWith = compare ?? (Production is { } p && p.Id != Version.Id ? p.Number : null);
        if (compare is { } other)
        {
            if (await registry.FindAsync(other, ct) is not { } found) this.Refuse($"There is no version v{other} to compare with.", 404);
            else if (Snapshot is null) this.Refuse("This version was not trained on a dataset snapshot, so it has no test split to compare on; open the other version and compare from there.");
            else Compared = await CompareAsync(found, ct);
        }
        return Page();
    }

    public async Task<IActionResult> OnPostPromoteAsync(int number, CancellationToken ct)
    {
        var promoted = await PromoteModelVersion.PromoteAsync(HttpContext.RequestServices, number.ToString(System.Globalization.CultureInfo.InvariantCulture), User, ct);
        if (promoted is null) return NotFound();
        await LoadAsync(number, ct);
        Message = $"v{promoted.Number} is production; every replica swaps to it.";
        return Page();
    }

    async Task<bool> LoadAsync(int number, CancellationToken ct)
    {
        if (await registry.FindAsync(number, ct) is not { } version) return false;
        Version = version;
        Production = await registry.ProductionAsync(ct);
        Others = [.. (await registry.ListAsync(ct)).Where(v => v.Id != version.Id)];
        Report = version.TestReportValues;
        Snapshot = version.SnapshotId is { } id ? await snapshots.FindAsync(id.ToString(), ct) : null;
        return true;
    }

    async Task<Comparison> CompareAsync(ModelVersion other, CancellationToken ct)
    {
        var rows = (await snapshots.RowsAsync(Snapshot!, ct)).Where(r => r.Split == DatasetSplit.Test).Take(options.Value.MaxCompareExamples).ToList();
        var texts = rows.Select(r => r.Text).ToList();
        var languages = rows.Select(r => (string?)r.Language).ToList();
        var categories = Version.Categories;
        var labels = rows.Select(r => categories.Select(c => r.Labels.Contains(c)).ToArray()).ToList();
        async Task<EvaluationReport> EvaluateAsync(ModelVersion v)
        {
            var model = await catalog.AcquireAsync(v.Id, ct);
            float[][] scores;
            try { scores = await Task.Run(() => model.ScoreTexts(texts, languages), ct); }
            finally { model.Release(); }
            // Scores mapped onto this version's categories by name (a category the other does not know scores 0).
            var index = categories.Select(c => Array.IndexOf(v.Categories, c)).ToArray();
            var mapped = scores.Select(s => index.Select(i => i >= 0 ? s[i] : 0f).ToArray()).ToList();
            var thresholds = index.Select(i => i >= 0 ? v.Thresholds[i] : 1f).ToList();
            return Evaluator.Evaluate(categories, mapped, labels, thresholds, [.. rows.Select(r => r.Language)]);
        }
        var mine = await EvaluateAsync(Version);
        var theirs = await EvaluateAsync(other);
        var deltas = mine.Categories.Zip(theirs.Categories).Where(p => p.First.Support > 0)
            .Select(p => new Delta(p.First.Category, p.First.Support, p.First.F1, p.Second.F1, p.First.Precision, p.Second.Precision,
                p.First.Recall, p.Second.Recall, p.First.PrAuc, p.Second.PrAuc)).ToList();
        return new Comparison(other, rows.Count, mine.MacroF1, theirs.MacroF1, deltas,
            mine.PerLanguageMacroF1.ToDictionary(l => l.Key, l => (l.Value, theirs.PerLanguageMacroF1.GetValueOrDefault(l.Key))));
    }
}
