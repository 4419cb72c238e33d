using System.Text.Json;
using BirbalAI.Ml;
using BirbalAI.Ml.Data;
using BirbalAI.Ml.Evaluation;
using BirbalAI.Ml.Serving;
using BirbalAI.Ml.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using BirbalAI.Ml.Starter;
using BirbalAI.Ml.Training;

namespace BirbalAI.Bench;

/// <summary>
/// The production starter model (any kind, scored as served) on the project's evaluation set (bench/eval: written before the corpus, by other
/// writers, never trained, tuned or calibrated on), per language: macro AUPRC over the 13 categories, the share
/// of benign examples (hard negatives included) held at the review threshold 0.5, and the worst category's
/// expected calibration error with examples weighted to the calibration base rate.
/// </summary>
static class EvalBench
{
    public static int Run(string output, string modelDirectory, string evalDirectory)
    {
        var package = ModelPackage.Read(modelDirectory);
        var card = package.Card;
        var sessions = new SessionFactory(Options.Create(new ServingOptions { IntraOpThreads = Environment.ProcessorCount }), NullLogger<SessionFactory>.Instance);
        var model = LoadedModel.FromPackage(package, sessions);
        var detector = new LanguageDetection();
        var categories = card.Categories;
        var baseRate = card.Calibration?.BaseRate ?? StarterModel.CalibrationBaseRate;
        var results = new Dictionary<string, object>();
        var table = new List<string> { "| language | examples | macro AUPRC | benign held at 0.5 | worst ECE |", "|---|---|---|---|---|" };
        var others = new List<double>();
        var allBenign = new List<bool>();
        var eces = new List<double>();
        foreach (var file in Directory.GetFiles(evalDirectory, "*.jsonl").Order(StringComparer.Ordinal))
        {
            var language = Path.GetFileNameWithoutExtension(file);
            var rows = LabelledData.Read(file, categories);
            // As served: each text in the language the detector gives it (an ensemble routes by language).
            var scores = model.ScoreTexts([.. rows.Select(r => r.Text)], [.. rows.AsParallel().AsOrdered().Select(r => detector.Detect(r.Text))]);
            var labels = rows.Select(r => ModelTraining.Labels(r, categories)).ToList();
            var report = Evaluator.Evaluate(categories, scores, labels, card.Thresholds);
            var benign = Enumerable.Range(0, rows.Count).Where(i => rows[i].Labels.Count == 0).ToList();
            var held = benign.Select(i => scores[i].Any(s => s >= 0.5f)).ToList();
            allBenign.AddRange(held);
            var ece = Enumerable.Range(0, categories.Count).Where(c => labels.Any(l => l[c]))
                .Max(c => Calibration.ExpectedCalibrationError(scores.Select(s => (double)s[c]).ToList(), labels.Select(l => l[c]).ToList(), baseRate));
            eces.Add(ece);
            var fpr = held.Count(h => h) / (double)Math.Max(1, held.Count);
            results[$"eval_macro_auprc_{language}"] = Math.Round(report.MacroPrAuc, 3);
            results[$"eval_benign_fpr_{language}"] = Math.Round(fpr, 3);
            results[$"eval_ece_max_{language}"] = Math.Round(ece, 3);
            if (language != "en") others.Add(report.MacroPrAuc);
            table.Add($"| {language} | {rows.Count} | {report.MacroPrAuc:0.000} | {fpr:0.000} | {ece:0.000} |");
        }
        results["eval_macro_auprc_min_other_language"] = Math.Round(others.Min(), 3);
        results["eval_benign_fpr"] = Math.Round(allBenign.Count(h => h) / (double)allBenign.Count, 3);
        results["eval_ece_max"] = Math.Round(eces.Max(), 3);
        results["eval_model"] = $"{card.Source ?? "?"} ({card.Kind})";
        Console.WriteLine(string.Join('\n', table));
        var merged = File.Exists(output) ? JsonSerializer.Deserialize<Dictionary<string, object>>(File.ReadAllText(output)) ?? [] : [];
        foreach (var (key, value) in results) merged[key] = value;
        File.WriteAllText(output, JsonSerializer.Serialize(merged, new JsonSerializerOptions { WriteIndented = true }));
        Console.WriteLine($"wrote {Path.GetFullPath(output)}");
        return 0;
    }
}
