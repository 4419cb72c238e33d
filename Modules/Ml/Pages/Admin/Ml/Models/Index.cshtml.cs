using BirbalAI.Contracts.Identity;
using BirbalAI.Ml.Registry;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace BirbalAI.Ml.Pages.Admin.Ml.Models;

[Authorize(Policy = Policies.Admin)]
sealed class IndexModel(ModelRegistry registry) : PageModel
{
    public IReadOnlyList<ModelVersion> Versions { get; private set; } = [];
    public ModelVersion? Production { get; private set; }
    public Guid? ProductionId => Production?.Id;

    /// <summary>The production version as a whole, then each of its components: name, size, settings, test metrics.</summary>
    public IReadOnlyList<(string Name, long? Size, string Settings, Evaluation.EvaluationReport? Evaluation)> ComponentRows { get; private set; } = [];

    /// <summary>The languages the production version's test rows had.</summary>
    public IReadOnlyList<string> Languages { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken ct)
    {
        Versions = await registry.ListAsync(ct);
        Production = await registry.ProductionAsync(ct);
        if (Production is null) return;
        var components = Production.ComponentList;
        var rows = new List<(string, long?, string, Evaluation.EvaluationReport?)> { (Production.Kind + " (served)", null, "", Production.Evaluation) };
        foreach (var c in components)
            rows.Add((c.Kind, c.Size, c.Kind == BirbalAI.Ml.Training.ModelKinds.Encoder
                ? $"{c.Encoder ?? "encoder"}, {c.EncoderSettings?.MaxWindows} × {c.EncoderSettings?.WindowTokens} tokens{(c.Languages is { Count: > 0 } l ? ", reads " + string.Join(", ", l) : "")}"
                : $"{Production.FeaturizerSettings.Buckets:N0} buckets",
                c.Evaluation));
        ComponentRows = rows;
        Languages = [.. rows.SelectMany(r => r.Item4?.PerLanguageMacroPrAuc?.Keys ?? []).Distinct().Order(StringComparer.Ordinal)];
    }
}
