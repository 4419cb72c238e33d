using System.Text.Json.Serialization;

namespace BirbalAI.Ml.Evaluation;

sealed record CategoryMetrics(
    string Category, int Support, double Threshold, double Precision, double Recall, double F1,
    [property: JsonPropertyName("pr_auc")] double PrAuc,
    [property: JsonPropertyName("threshold_for_target_precision")] double? ThresholdForTargetPrecision);

sealed record EvaluationReport(
    int Examples,
    [property: JsonPropertyName("target_precision")] double TargetPrecision,
    IReadOnlyList<CategoryMetrics> Categories,
    [property: JsonPropertyName("macro_f1")] double MacroF1,
    [property: JsonPropertyName("micro_f1")] double MicroF1,
    [property: JsonPropertyName("macro_precision")] double MacroPrecision,
    [property: JsonPropertyName("macro_recall")] double MacroRecall,
    [property: JsonPropertyName("macro_pr_auc")] double MacroPrAuc,
    [property: JsonPropertyName("per_language_macro_f1")] IReadOnlyDictionary<string, double> PerLanguageMacroF1,
    string? Note = null,
    [property: JsonPropertyName("per_language_macro_pr_auc")] IReadOnlyDictionary<string, double>? PerLanguageMacroPrAuc = null);

/// <summary>
/// Per category precision, recall, F1 at the model's threshold, PR-AUC (average precision), and the lowest
/// threshold that reaches a target precision; per-language macro F1; macro and micro averages. Categories
/// without a positive example count in the averages only when something was wrongly flagged for them.
/// </summary>
static class Evaluator
{
    public static EvaluationReport Evaluate(IReadOnlyList<string> categories, IReadOnlyList<float[]> scores, IReadOnlyList<bool[]> labels,
        IReadOnlyList<float> thresholds, IReadOnlyList<string>? languages = null, double targetPrecision = 0.9, string? note = null)
    {
        var metrics = new List<CategoryMetrics>();
        int tpAll = 0, fpAll = 0, fnAll = 0;
        for (var c = 0; c < categories.Count; c++)
        {
            var (tp, fp, fn) = Counts(scores, labels, c, thresholds[c]);
            tpAll += tp; fpAll += fp; fnAll += fn;
            var column = scores.Select((s, i) => (Score: s[c], Label: labels[i][c])).ToList();
            metrics.Add(new CategoryMetrics(categories[c], column.Count(x => x.Label), thresholds[c],
                Ratio(tp, tp + fp), Ratio(tp, tp + fn), F1(tp, fp, fn), AveragePrecision(column), ThresholdFor(column, targetPrecision)));
        }
        var counted = metrics.Where((m, c) => m.Support > 0 || Counts(scores, labels, c, thresholds[c]).Fp > 0).ToList();
        var perLanguage = new Dictionary<string, double>();
        var perLanguageAuc = new Dictionary<string, double>();
        if (languages is not null)
            foreach (var language in languages.Distinct().Order(StringComparer.Ordinal))
            {
                var rows = Enumerable.Range(0, scores.Count).Where(i => languages[i] == language).ToList();
                var f1s = Enumerable.Range(0, categories.Count)
                    .Select(c => (c, counts: Counts(rows.Select(i => scores[i]).ToList(), rows.Select(i => labels[i]).ToList(), c, thresholds[c])))
                    .Where(x => x.counts.Tp + x.counts.Fn > 0 || x.counts.Fp > 0)
                    .Select(x => F1(x.counts.Tp, x.counts.Fp, x.counts.Fn)).ToList();
                perLanguage[language] = f1s.Count == 0 ? 1 : f1s.Average();
                var aucs = Enumerable.Range(0, categories.Count)
                    .Select(c => rows.Select(i => (Score: scores[i][c], Label: labels[i][c])).ToList())
                    .Where(column => column.Any(x => x.Label)).Select(AveragePrecision).ToList();
                if (aucs.Count > 0) perLanguageAuc[language] = aucs.Average();
            }
        return new EvaluationReport(scores.Count, targetPrecision, metrics,
            Mean(counted.Select(m => m.F1)), F1(tpAll, fpAll, fnAll), Mean(counted.Select(m => m.Precision)), Mean(counted.Select(m => m.Recall)),
            Mean(metrics.Where(m => m.Support > 0).Select(m => m.PrAuc)), perLanguage, note, languages is null ? null : perLanguageAuc);
    }

    /// <summary>Per category, the threshold with the best F1 on these (validation) scores; 0.5 where there is no positive.</summary>
    public static float[] TuneThresholds(int classes, IReadOnlyList<float[]> scores, IReadOnlyList<bool[]> labels)
    {
        var thresholds = new float[classes];
        for (var c = 0; c < classes; c++)
        {
            var column = scores.Select((s, i) => (Score: s[c], Label: labels[i][c])).OrderByDescending(x => x.Score).ToList();
            var positives = column.Count(x => x.Label);
            thresholds[c] = 0.5f;
            if (positives == 0) continue;
            double best = -1;
            var tp = 0;
            for (var k = 0; k < column.Count; k++)
            {
                if (column[k].Label) tp++;
                if (k + 1 < column.Count && column[k + 1].Score == column[k].Score) continue;
                var f1 = 2.0 * tp / (k + 1 + positives);
                if (f1 > best)
                {
                    best = f1;
                    // halfway to the next lower score, so a slightly lower score on new data is not lost
                    thresholds[c] = k + 1 < column.Count ? (column[k].Score + column[k + 1].Score) / 2 : column[k].Score;
                }
            }
        }
        return thresholds;
    }

    static (int Tp, int Fp, int Fn) Counts(IReadOnlyList<float[]> scores, IReadOnlyList<bool[]> labels, int c, float threshold)
    {
        int tp = 0, fp = 0, fn = 0;
        for (var i = 0; i < scores.Count; i++)
        {
            var flagged = scores[i][c] >= threshold;
            if (flagged && labels[i][c]) tp++;
            else if (flagged) fp++;
            else if (labels[i][c]) fn++;
        }
        return (tp, fp, fn);
    }

    /// <summary>Average precision: the mean of the precision at each positive, ranked by score.</summary>
    static double AveragePrecision(List<(float Score, bool Label)> column)
    {
        var positives = column.Count(x => x.Label);
        if (positives == 0) return 0;
        var ranked = column.OrderByDescending(x => x.Score).ToList();
        double sum = 0;
        var tp = 0;
        for (var k = 0; k < ranked.Count; k++)
            if (ranked[k].Label) sum += (double)++tp / (k + 1);
        return sum / positives;
    }

    /// <summary>The lowest threshold whose precision reaches <paramref name="target"/> (most recall at that precision); null if none does.</summary>
    static double? ThresholdFor(List<(float Score, bool Label)> column, double target)
    {
        var ranked = column.OrderByDescending(x => x.Score).ToList();
        double? found = null;
        var tp = 0;
        for (var k = 0; k < ranked.Count; k++)
        {
            if (ranked[k].Label) tp++;
            if (k + 1 < ranked.Count && ranked[k + 1].Score == ranked[k].Score) continue;
            if (tp > 0 && (double)tp / (k + 1) >= target) found = ranked[k].Score;
        }
        return found;
    }

    static double Ratio(int a, int b) => b == 0 ? 0 : (double)a / b;
    static double F1(int tp, int fp, int fn) => tp == 0 ? (fp + fn == 0 ? 1 : 0) : 2.0 * tp / (2 * tp + fp + fn);
    static double Mean(IEnumerable<double> values) => values.DefaultIfEmpty(0).Average();
}
