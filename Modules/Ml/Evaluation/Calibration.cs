namespace BirbalAI.Ml.Evaluation;

/// <summary>Platt scaling of one category: calibrated = σ(A · logit(score) + B).</summary>
sealed record PlattScaling(double A, double B)
{
    public static readonly PlattScaling Identity = new(1, 0);

    public double Apply(double score) => Sigmoid(A * Logit(score) + B);

    /// <summary>
    /// The same scaling for traffic whose share of positives is <paramref name="target"/> rather than the
    /// <paramref name="fitted"/> share of the data it was fitted on (Bayes' rule moves the intercept only).
    /// </summary>
    public PlattScaling ForBaseRate(double fitted, double target) => this with { B = B + Logit(target) - Logit(fitted) };

    public static double Logit(double p)
    {
        p = Math.Clamp(p, 1e-7, 1 - 1e-7);
        return Math.Log(p / (1 - p));
    }

    public static double Sigmoid(double x) => x >= 0 ? 1 / (1 + Math.Exp(-x)) : Math.Exp(x) / (1 + Math.Exp(x));
}

/// <summary>
/// Turns a model's scores into probabilities that mean what they say. Per category: Platt scaling fitted on
/// validation data (never training data), with Platt's smoothed targets; its quality reported out of fold
/// (cross-fitted: each fold scored by a scaling fitted on the others), and the expected calibration error
/// (ECE, 10 equal-width bins) measured with importance weights for a stated base rate, because the corpus is
/// balanced and real traffic is not.
/// </summary>
static class Calibration
{
    public const int Bins = 10;

    /// <summary>
    /// Fits σ(A·x + B), x = logit(score), to labels: Newton's method with a backtracking line search on the log
    /// loss against Platt's smoothed targets (Lin, Lin and Weng 2007), so it converges even on separable data.
    /// </summary>
    public static PlattScaling Fit(IReadOnlyList<double> scores, IReadOnlyList<bool> labels, IReadOnlyList<double>? weights = null)
    {
        var n = scores.Count;
        double positives = 0, negatives = 0;
        for (var i = 0; i < n; i++) { var w = weights?[i] ?? 1; if (labels[i]) positives += w; else negatives += w; }
        if (positives == 0 || negatives == 0) return PlattScaling.Identity;
        var (hi, lo) = ((positives + 1) / (positives + 2), 1 / (negatives + 2));   // smoothed targets: no infinite weights
        var x = scores.Select(PlattScaling.Logit).ToArray();
        var t = labels.Select(l => l ? hi : lo).ToArray();
        double Loss(double a, double b)
        {
            double loss = 0;
            for (var i = 0; i < n; i++)
            {
                var z = a * x[i] + b;
                // log(1 + e^z) − t·z, stable for large |z|
                loss += (weights?[i] ?? 1) * ((z > 0 ? z + Math.Log(1 + Math.Exp(-z)) : Math.Log(1 + Math.Exp(z))) - t[i] * z);
            }
            return loss;
        }
        double a0 = 1, b0 = 0, current = Loss(a0, b0);
        for (var iteration = 0; iteration < 100; iteration++)
        {
            double ga = 0, gb = 0, haa = 1e-12, hab = 0, hbb = 1e-12;
            for (var i = 0; i < n; i++)
            {
                var w = weights?[i] ?? 1;
                var p = PlattScaling.Sigmoid(a0 * x[i] + b0);
                var d = (p - t[i]) * w;
                ga += d * x[i]; gb += d;
                var h = Math.Max(p * (1 - p), 1e-12) * w;
                haa += h * x[i] * x[i]; hab += h * x[i]; hbb += h;
            }
            if (Math.Abs(ga) < 1e-9 && Math.Abs(gb) < 1e-9) break;
            var det = haa * hbb - hab * hab;
            var (da, db) = det > 1e-18 ? ((hbb * ga - hab * gb) / det, (haa * gb - hab * ga) / det) : (ga, gb);
            var step = 1.0;
            while (step > 1e-8)
            {
                var (a1, b1) = (a0 - step * da, b0 - step * db);
                var next = Loss(a1, b1);
                if (next < current - 1e-4 * step * (ga * da + gb * db)) { (a0, b0, current) = (a1, b1, next); break; }
                step /= 2;
            }
            if (step <= 1e-8) break;
        }
        return new PlattScaling(a0, b0);
    }

    /// <summary>Scores of every row calibrated by a scaling fitted on the other folds (rows assigned to folds round-robin by index).</summary>
    public static double[] CrossFitted(IReadOnlyList<double> scores, IReadOnlyList<bool> labels, int folds = 5)
    {
        var result = new double[scores.Count];
        for (var f = 0; f < folds; f++)
        {
            var train = Enumerable.Range(0, scores.Count).Where(i => i % folds != f).ToList();
            var scaling = Fit(train.Select(i => scores[i]).ToList(), train.Select(i => labels[i]).ToList());
            for (var i = f; i < scores.Count; i += folds) result[i] = scaling.Apply(scores[i]);
        }
        return result;
    }

    /// <summary>
    /// Expected calibration error: Σ over bins of |mean probability − share of positives| × the bin's share of
    /// rows, rows weighted so that positives make up <paramref name="baseRate"/> of the total (null: as they come).
    /// </summary>
    public static double ExpectedCalibrationError(IReadOnlyList<double> probabilities, IReadOnlyList<bool> labels, double? baseRate = null)
    {
        var weights = Weights(labels, baseRate);
        var (sumP, sumY, sumW) = (new double[Bins], new double[Bins], new double[Bins]);
        for (var i = 0; i < probabilities.Count; i++)
        {
            var bin = Math.Min(Bins - 1, (int)(probabilities[i] * Bins));
            sumP[bin] += probabilities[i] * weights[i];
            sumY[bin] += (labels[i] ? 1 : 0) * weights[i];
            sumW[bin] += weights[i];
        }
        var total = sumW.Sum();
        if (total == 0) return 0;
        double ece = 0;
        for (var b = 0; b < Bins; b++)
            if (sumW[b] > 0) ece += sumW[b] / total * Math.Abs(sumP[b] / sumW[b] - sumY[b] / sumW[b]);
        return ece;
    }

    /// <summary>Importance weights that make positives <paramref name="baseRate"/> of the weight; all 1 when null or one class is missing.</summary>
    public static double[] Weights(IReadOnlyList<bool> labels, double? baseRate)
    {
        var positives = labels.Count(l => l);
        if (baseRate is not { } rate || positives == 0 || positives == labels.Count) return [.. Enumerable.Repeat(1.0, labels.Count)];
        var share = (double)positives / labels.Count;
        return [.. labels.Select(l => l ? rate / share : (1 - rate) / (1 - share))];
    }
}
