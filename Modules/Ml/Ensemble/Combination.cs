using System.Text.Json.Serialization;
using BirbalAI.Ml.Evaluation;

namespace BirbalAI.Ml.Ensemble;

/// <summary>How one category's two component scores become one: σ(n · logit(ngram) + e · logit(encoder) + b).</summary>
sealed record CombinationWeights(double Ngram, double Encoder, double Bias)
{
    public static readonly CombinationWeights NgramOnly = new(1, 0, 0);

    public double Logit(double ngram, double encoder) => Ngram * PlattScaling.Logit(ngram) + Encoder * PlattScaling.Logit(encoder) + Bias;
}

/// <summary>One category's weights for all texts, and for the languages whose validation rows moved them.</summary>
sealed record CategoryCombination(
    string Category, CombinationWeights All, IReadOnlyDictionary<string, CombinationWeights> Languages,
    [property: JsonPropertyName("fitted_share")] double FittedShare, double Ece);

/// <summary>
/// The ensemble's combination (<see cref="Stacking"/>), per category and per language: the weights were fitted on
/// validation data neither component trained on and shifted to <see cref="BaseRate"/>, so the result is a
/// calibrated probability, as each component's score is.
/// </summary>
sealed record Combination(
    [property: JsonPropertyName("base_rate")] double BaseRate,
    IReadOnlyList<CategoryCombination> Categories,
    [property: JsonPropertyName("ece_max")] double EceMax)
{
    /// <summary>Whether texts in <paramref name="language"/> need the encoder at all (its weight is 0 in every category for n-gram-only languages).</summary>
    public bool UsesEncoder(string? language)
    {
        for (var c = 0; c < Categories.Count; c++)
            if (For(c, language).Encoder != 0) return true;
        return false;
    }

    public CombinationWeights For(int category, string? language) =>
        language is not null && Categories[category].Languages.TryGetValue(language, out var weights) ? weights : Categories[category].All;

    /// <summary>The combined score of one category and what each component added to its logit.</summary>
    public (float Score, double NgramPart, double EncoderPart) Combine(int category, string? language, float ngram, float encoder)
    {
        var weights = For(category, language);
        var (n, e) = (weights.Ngram * PlattScaling.Logit(ngram), weights.Encoder * PlattScaling.Logit(encoder));
        return ((float)PlattScaling.Sigmoid(n + e + weights.Bias), n, e);
    }
}

/// <summary>
/// Fits the ensemble's combination: per category a logistic regression on the two components' logits (Platt
/// scaling in two dimensions, with Platt's smoothed targets) on validation rows; then, per language, the same
/// regression its two weights pulled towards the category's by a Gaussian prior (the intercept free), so a language with few validation rows
/// keeps nearly the shared weights and one with many gets its own (the encoder is English-trained: the n-gram model
/// carries Arabic and Hindi). A negative weight (a component that, given the other, points the wrong way on this
/// data) is fixed at 0 and the rest refitted. Intercepts are shifted from the validation share to the base rate.
/// </summary>
static class Stacking
{
    /// <summary>The prior's strength: the weight of this many log-loss "rows" keeping a language at the shared weights.</summary>
    public const double LanguagePrior = 30;

    /// <summary>A language needs this many validation rows of a category, positive and negative, to get weights of its own.</summary>
    public const int MinLanguageRows = 10;

    public static Combination Fit(IReadOnlyList<string> categories, IReadOnlyList<float[]> ngram, IReadOnlyList<float[]> encoder,
        IReadOnlyList<bool[]> labels, IReadOnlyList<string> languages, double baseRate, IReadOnlyCollection<string>? ngramOnly = null)
    {
        ngramOnly ??= [];
        var result = new List<CategoryCombination>();
        for (var c = 0; c < categories.Count; c++)
        {
            var x = Enumerable.Range(0, labels.Count).Select(i => (PlattScaling.Logit(ngram[i][c]), PlattScaling.Logit(encoder[i][c]))).ToArray();
            var y = labels.Select(l => l[c]).ToArray();
            var share = y.Count(v => v) / (double)y.Length;
            if (share == 0 || share == 1)
            {
                result.Add(new CategoryCombination(categories[c], CombinationWeights.NgramOnly,
                    ngramOnly.ToDictionary(l => l, _ => CombinationWeights.NgramOnly, StringComparer.Ordinal), share, 0));
                continue;
            }
            var shift = PlattScaling.Logit(baseRate) - PlattScaling.Logit(share);
            var all = FitOne(x, y, prior: null);
            // The n-gram model's own scores are calibrated to the base rate already: its languages take them as they are.
            var perLanguage = ngramOnly.ToDictionary(l => l, _ => CombinationWeights.NgramOnly, StringComparer.Ordinal);
            foreach (var language in languages.Distinct().Order(StringComparer.Ordinal))
            {
                var rows = Enumerable.Range(0, y.Length).Where(i => languages[i] == language).ToArray();
                var positives = rows.Count(i => y[i]);
                if (positives < MinLanguageRows || rows.Length - positives < MinLanguageRows) continue;
                perLanguage[language] = FitOne([.. rows.Select(i => x[i])], [.. rows.Select(i => y[i])], all);
            }
            // Cross-fitted out-of-fold probabilities for the ECE (5 folds, round-robin), at the base rate.
            var outOfFold = new double[y.Length];
            for (var f = 0; f < 5; f++)
            {
                var train = Enumerable.Range(0, y.Length).Where(i => i % 5 != f).ToArray();
                var weights = FitOne([.. train.Select(i => x[i])], [.. train.Select(i => y[i])], prior: null);
                for (var i = f; i < y.Length; i += 5)
                    outOfFold[i] = PlattScaling.Sigmoid(weights.Ngram * x[i].Item1 + weights.Encoder * x[i].Item2 + weights.Bias + shift);
            }
            var ece = Calibration.ExpectedCalibrationError(outOfFold, y, baseRate);
            result.Add(new CategoryCombination(categories[c], all with { Bias = all.Bias + shift },
                perLanguage.ToDictionary(p => p.Key, p => ngramOnly.Contains(p.Key) ? p.Value : p.Value with { Bias = p.Value.Bias + shift }, StringComparer.Ordinal),
                share, ece));
        }
        return new Combination(baseRate, result, result.Max(r => r.Ece));
    }

    /// <summary>One logistic regression, with the weights kept non-negative; <paramref name="prior"/> pulls towards those weights.</summary>
    internal static CombinationWeights FitOne((double N, double E)[] x, bool[] y, CombinationWeights? prior)
    {
        var weights = Newton(x, y, prior, [true, true]);
        if (weights.Ngram < 0 && weights.Encoder < 0) return prior ?? CombinationWeights.NgramOnly;
        if (weights.Ngram < 0) return Newton(x, y, prior, [false, true]);
        if (weights.Encoder < 0) return Newton(x, y, prior, [true, false]);
        return weights;
    }

    /// <summary>Newton's method with a backtracking line search on the (penalised) log loss; inactive weights stay 0.</summary>
    static CombinationWeights Newton((double N, double E)[] x, bool[] y, CombinationWeights? prior, bool[] active)
    {
        var positives = y.Count(v => v);
        var (hi, lo) = ((positives + 1.0) / (positives + 2), 1.0 / (y.Length - positives + 2));
        double[] mean = prior is null ? [0, 0, 0] : [prior.Ngram, prior.Encoder, prior.Bias];
        var lambda = prior is null ? 1e-3 : LanguagePrior;
        double[] w = prior is null ? [active[0] ? 1 : 0, active[1] ? 1 : 0, 0] : [active[0] ? prior.Ngram : 0, active[1] ? prior.Encoder : 0, prior.Bias];
        double Feature(int i, int k) => k == 0 ? x[i].N : k == 1 ? x[i].E : 1;
        double Loss(double[] v)
        {
            double loss = 0;
            for (var i = 0; i < y.Length; i++)
            {
                var z = v[0] * x[i].N + v[1] * x[i].E + v[2];
                loss += (z > 0 ? z + Math.Log(1 + Math.Exp(-z)) : Math.Log(1 + Math.Exp(z))) - (y[i] ? hi : lo) * z;
            }
            for (var k = 0; k < 2; k++) loss += 0.5 * lambda * (v[k] - mean[k]) * (v[k] - mean[k]);   // the bias is free
            return loss;
        }
        var current = Loss(w);
        for (var iteration = 0; iteration < 100; iteration++)
        {
            var g = new double[3];
            var h = new double[3, 3];
            for (var i = 0; i < y.Length; i++)
            {
                var p = PlattScaling.Sigmoid(w[0] * x[i].N + w[1] * x[i].E + w[2]);
                var d = p - (y[i] ? hi : lo);
                var s = Math.Max(p * (1 - p), 1e-12);
                for (var a = 0; a < 3; a++)
                {
                    g[a] += d * Feature(i, a);
                    for (var b = 0; b < 3; b++) h[a, b] += s * Feature(i, a) * Feature(i, b);
                }
            }
            for (var k = 0; k < 2; k++) { g[k] += lambda * (w[k] - mean[k]); h[k, k] += lambda; }
            h[2, 2] += 1e-9;
            var free = Enumerable.Range(0, 3).Where(k => k == 2 || active[k]).ToArray();
            if (free.All(k => Math.Abs(g[k]) < 1e-9)) break;
            var step = Solve(h, g, free);
            var size = 1.0;
            while (size > 1e-8)
            {
                var next = (double[])w.Clone();
                foreach (var k in free) next[k] -= size * step[k];
                var loss = Loss(next);
                if (loss < current - 1e-4 * size * free.Sum(k => g[k] * step[k])) { (w, current) = (next, loss); break; }
                size /= 2;
            }
            if (size <= 1e-8) break;
        }
        return new CombinationWeights(w[0], w[1], w[2]);
    }

    /// <summary>Solves H·s = g restricted to <paramref name="free"/> (Gaussian elimination; at most 3 unknowns).</summary>
    static double[] Solve(double[,] h, double[] g, int[] free)
    {
        var n = free.Length;
        var m = new double[n, n + 1];
        for (var r = 0; r < n; r++)
        {
            for (var c = 0; c < n; c++) m[r, c] = h[free[r], free[c]];
            m[r, n] = g[free[r]];
        }
        for (var p = 0; p < n; p++)
        {
            var pivot = Enumerable.Range(p, n - p).MaxBy(r => Math.Abs(m[r, p]));
            for (var c = 0; c <= n; c++) (m[p, c], m[pivot, c]) = (m[pivot, c], m[p, c]);
            if (Math.Abs(m[p, p]) < 1e-15) m[p, p] = 1e-15;
            for (var r = 0; r < n; r++)
            {
                if (r == p) continue;
                var f = m[r, p] / m[p, p];
                for (var c = p; c <= n; c++) m[r, c] -= f * m[p, c];
            }
        }
        var step = new double[3];
        for (var r = 0; r < n; r++) step[free[r]] = m[r, n] / m[r, r];
        return step;
    }
}
