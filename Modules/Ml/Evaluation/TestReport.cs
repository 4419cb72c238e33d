using System.Text.Json.Serialization;

namespace BirbalAI.Ml.Evaluation;

/// <summary>Counts at the threshold: true and false positives, false and true negatives.</summary>
sealed record Confusion(int Tp, int Fp, int Fn, int Tn);

/// <summary>One bin of a reliability diagram: scores in [Lower, Upper), their mean and the share of positives among them.</summary>
sealed record ReliabilityBin(double Lower, double Upper, int Count,
    [property: JsonPropertyName("mean_score")] double MeanScore, [property: JsonPropertyName("positive_share")] double PositiveShare);

/// <summary>A point of a precision-recall curve: flagging from <see cref="Threshold"/> up.</summary>
sealed record CurvePoint(double Threshold, double Precision, double Recall);

sealed record CategoryDetail(string Category, int Support, double Threshold, double Precision, double Recall, double F1,
    [property: JsonPropertyName("pr_auc")] double PrAuc, double Ece, Confusion Confusion,
    IReadOnlyList<ReliabilityBin> Reliability, [property: JsonPropertyName("pr_curve")] IReadOnlyList<CurvePoint> PrCurve,
    [property: JsonPropertyName("positive_histogram")] int[] PositiveHistogram, [property: JsonPropertyName("negative_histogram")] int[] NegativeHistogram);

sealed record LanguageCategory(string Category, int Support, double Precision, double Recall, double F1,
    [property: JsonPropertyName("pr_auc")] double PrAuc, Confusion Confusion);

sealed record LanguageDetail(string Language, int Examples, [property: JsonPropertyName("macro_f1")] double MacroF1, IReadOnlyList<LanguageCategory> Categories);

/// <summary>
/// What a version's page shows of its test split: per category precision, recall, F1, PR-AUC, calibration (ECE and the
/// reliability bins), the confusion counts, the PR curve and score histograms of positives and negatives; the same per
/// language and category. <see cref="Evaluator"/> makes the summary the registry lists.
/// </summary>
sealed record TestReport(int Examples, IReadOnlyList<CategoryDetail> Categories, IReadOnlyList<LanguageDetail> Languages)
{
    public const int HistogramBins = 20, MaxCurvePoints = 101;

    public static TestReport Build(IReadOnlyList<string> categories, IReadOnlyList<float[]> scores, IReadOnlyList<bool[]> labels,
        IReadOnlyList<float> thresholds, IReadOnlyList<string> languages)
    {
        var all = Enumerable.Range(0, scores.Count).ToList();
        var details = categories.Select((category, c) =>
        {
            var column = all.Select(i => ((double)scores[i][c], labels[i][c])).ToList();
            var confusion = Count(column, thresholds[c]);
            var (precision, recall, f1) = Rates(confusion);
            var positives = new int[HistogramBins];
            var negatives = new int[HistogramBins];
            foreach (var (score, label) in column) (label ? positives : negatives)[Math.Min(HistogramBins - 1, (int)(score * HistogramBins))]++;
            return new CategoryDetail(category, confusion.Tp + confusion.Fn, thresholds[c], precision, recall, f1, AveragePrecision(column),
                Calibration.ExpectedCalibrationError([.. column.Select(x => x.Item1)], [.. column.Select(x => x.Item2)]),
                confusion, Reliability(column), Curve(column), positives, negatives);
        }).ToList();
        var perLanguage = languages.Distinct().Order(StringComparer.Ordinal).Select(language =>
        {
            var rows = all.Where(i => languages[i] == language).ToList();
            var perCategory = categories.Select((category, c) =>
            {
                var column = rows.Select(i => ((double)scores[i][c], labels[i][c])).ToList();
                var confusion = Count(column, thresholds[c]);
                var (precision, recall, f1) = Rates(confusion);
                return new LanguageCategory(category, confusion.Tp + confusion.Fn, precision, recall, f1, AveragePrecision(column), confusion);
            }).ToList();
            var counted = perCategory.Where(x => x.Support > 0 || x.Confusion.Fp > 0).ToList();
            return new LanguageDetail(language, rows.Count, counted.Count == 0 ? 1 : counted.Average(x => x.F1), perCategory);
        }).ToList();
        return new TestReport(scores.Count, details, perLanguage);
    }

    static Confusion Count(List<(double Score, bool Label)> column, double threshold)
    {
        int tp = 0, fp = 0, fn = 0, tn = 0;
        foreach (var (score, label) in column)
        {
            if (score >= threshold) { if (label) tp++; else fp++; }
            else if (label) fn++;
            else tn++;
        }
        return new Confusion(tp, fp, fn, tn);
    }

    static (double Precision, double Recall, double F1) Rates(Confusion c) =>
        (c.Tp + c.Fp == 0 ? 0 : (double)c.Tp / (c.Tp + c.Fp), c.Tp + c.Fn == 0 ? 0 : (double)c.Tp / (c.Tp + c.Fn),
         c.Tp == 0 ? (c.Fp + c.Fn == 0 ? 1 : 0) : 2.0 * c.Tp / (2 * c.Tp + c.Fp + c.Fn));

    static double AveragePrecision(List<(double Score, bool Label)> column)
    {
        var positives = column.Count(x => x.Label);
        if (positives == 0) return 0;
        double sum = 0;
        var tp = 0;
        var k = 0;
        foreach (var (_, label) in column.OrderByDescending(x => x.Score))
        {
            k++;
            if (label) sum += (double)++tp / k;
        }
        return sum / positives;
    }

    static List<ReliabilityBin> Reliability(List<(double Score, bool Label)> column)
    {
        var bins = new List<ReliabilityBin>();
        for (var b = 0; b < Calibration.Bins; b++)
        {
            var (lower, upper) = ((double)b / Calibration.Bins, (double)(b + 1) / Calibration.Bins);
            var inside = column.Where(x => x.Score >= lower && (x.Score < upper || (b == Calibration.Bins - 1 && x.Score <= 1))).ToList();
            bins.Add(new ReliabilityBin(lower, upper, inside.Count, inside.Count == 0 ? 0 : inside.Average(x => x.Score),
                inside.Count == 0 ? 0 : inside.Count(x => x.Label) / (double)inside.Count));
        }
        return bins;
    }

    /// <summary>Precision and recall at every distinct score, thinned to at most <see cref="MaxCurvePoints"/> points; empty without positives.</summary>
    static List<CurvePoint> Curve(List<(double Score, bool Label)> column)
    {
        var positives = column.Count(x => x.Label);
        if (positives == 0) return [];
        var ranked = column.OrderByDescending(x => x.Score).ToList();
        var points = new List<CurvePoint>();
        var tp = 0;
        for (var k = 0; k < ranked.Count; k++)
        {
            if (ranked[k].Label) tp++;
            if (k + 1 < ranked.Count && ranked[k + 1].Score == ranked[k].Score) continue;
            points.Add(new CurvePoint(ranked[k].Score, (double)tp / (k + 1), (double)tp / positives));
        }
        if (points.Count <= MaxCurvePoints) return points;
        var step = (points.Count - 1) / (double)(MaxCurvePoints - 1);
        return [.. Enumerable.Range(0, MaxCurvePoints).Select(i => points[(int)Math.Round(i * step)])];
    }
}
