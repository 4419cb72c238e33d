using BirbalAI.Ml.Ensemble;
using BirbalAI.Ml.Evaluation;

namespace BirbalAI.Ml.Tests.Ensemble;

/// <summary>The ensemble's combination on synthetic component scores whose quality is known.</summary>
public sealed class StackingTests
{
    /// <summary>
    /// Rows of one category: the label, then each component's probability — informative ones as σ(signal·±1 + noise),
    /// useless ones as σ(noise), "backwards" ones as σ(−signal·±1 + noise).
    /// </summary>
    static (float[][] Ngram, float[][] Encoder, bool[][] Labels) Rows(int count, double ngramSignal, double encoderSignal, int seed, double positiveShare = 0.5)
    {
        var random = new Random(seed);
        double Noise() => random.NextDouble() * 2 - 1 + (random.NextDouble() * 2 - 1);
        var (ngram, encoder, labels) = (new float[count][], new float[count][], new bool[count][]);
        for (var i = 0; i < count; i++)
        {
            var label = random.NextDouble() < positiveShare;
            var sign = label ? 1 : -1;
            labels[i] = [label];
            ngram[i] = [(float)PlattScaling.Sigmoid(ngramSignal * sign + Noise())];
            encoder[i] = [(float)PlattScaling.Sigmoid(encoderSignal * sign + Noise())];
        }
        return (ngram, encoder, labels);
    }

    static string[] Same(int count, string language) => [.. Enumerable.Repeat(language, count)];

    [Fact]
    public void The_informative_component_gets_the_weight_and_the_useless_one_almost_none()
    {
        var (ngram, encoder, labels) = Rows(600, ngramSignal: 0, encoderSignal: 2.5, seed: 1);

        var weights = Stacking.Fit(["c"], ngram, encoder, labels, Same(600, "en"), baseRate: 0.5).Categories[0].All;

        Assert.True(weights.Encoder > 0.5, $"encoder weight {weights.Encoder}");
        Assert.True(weights.Ngram < 0.15, $"n-gram weight {weights.Ngram}");
    }

    [Fact]
    public void A_component_that_points_the_wrong_way_gets_no_weight_at_all()
    {
        var (ngram, encoder, labels) = Rows(600, ngramSignal: -2, encoderSignal: 2, seed: 2);

        var weights = Stacking.Fit(["c"], ngram, encoder, labels, Same(600, "en"), baseRate: 0.5).Categories[0].All;

        Assert.Equal(0, weights.Ngram);
        Assert.True(weights.Encoder > 0.5);
    }

    [Fact]
    public void The_base_rate_moves_the_intercept_only_by_the_prior_odds()
    {
        var (ngram, encoder, labels) = Rows(800, 1.5, 1.5, seed: 3);
        var share = labels.Count(l => l[0]) / 800.0;

        var balanced = Stacking.Fit(["c"], ngram, encoder, labels, Same(800, "en"), baseRate: share).Categories[0].All;
        var rare = Stacking.Fit(["c"], ngram, encoder, labels, Same(800, "en"), baseRate: 0.05).Categories[0].All;

        Assert.Equal(balanced.Ngram, rare.Ngram, 9);
        Assert.Equal(balanced.Encoder, rare.Encoder, 9);
        Assert.Equal(PlattScaling.Logit(0.05) - PlattScaling.Logit(share), rare.Bias - balanced.Bias, 9);
    }

    [Fact]
    public void A_language_with_enough_rows_gets_weights_of_its_own_and_one_with_few_keeps_the_shared_ones()
    {
        // English rows where the encoder knows; Arabic rows where only the n-gram model does; a handful of German ones.
        var en = Rows(800, ngramSignal: 0.3, encoderSignal: 2.5, seed: 4);
        var ar = Rows(400, ngramSignal: 2.5, encoderSignal: 0, seed: 5);
        var de = Rows(12, ngramSignal: 2.5, encoderSignal: 0, seed: 6);
        var languages = (string[])[.. Same(800, "en"), .. Same(400, "ar"), .. Same(12, "de")];

        var combination = Stacking.Fit(["c"], [.. en.Ngram, .. ar.Ngram, .. de.Ngram], [.. en.Encoder, .. ar.Encoder, .. de.Encoder],
            [.. en.Labels, .. ar.Labels, .. de.Labels], languages, baseRate: 0.5);

        var arabic = combination.For(0, "ar");
        Assert.True(arabic.Ngram > arabic.Encoder, $"ar: n-gram {arabic.Ngram}, encoder {arabic.Encoder}");
        var english = combination.For(0, "en");
        Assert.True(english.Encoder > english.Ngram, $"en: n-gram {english.Ngram}, encoder {english.Encoder}");
        Assert.False(combination.Categories[0].Languages.ContainsKey("de"));   // too few rows: the shared weights
        Assert.Same(combination.Categories[0].All, combination.For(0, "de"));
        Assert.Same(combination.Categories[0].All, combination.For(0, null));
    }

    [Fact]
    public void N_gram_only_languages_take_the_n_gram_score_unchanged_and_need_no_encoder()
    {
        var (ngram, encoder, labels) = Rows(600, 1, 2, seed: 7);

        var combination = Stacking.Fit(["c"], ngram, encoder, labels, Same(600, "en"), baseRate: 0.05, ngramOnly: ["ar", "hi"]);

        Assert.Equal(CombinationWeights.NgramOnly, combination.For(0, "ar"));
        Assert.False(combination.UsesEncoder("ar"));
        Assert.True(combination.UsesEncoder("en"));
        Assert.True(combination.UsesEncoder("und"));   // an undetected language gets the shared weights, encoder included
        Assert.Equal(0.37f, combination.Combine(0, "hi", 0.37f, 0.99f).Score, 5);
    }

    [Fact]
    public void Scores_drawn_from_a_logistic_model_come_out_calibrated()
    {
        var (ngram, encoder, labels) = Rows(3000, 1.2, 1.8, seed: 8, positiveShare: 0.3);

        var combination = Stacking.Fit(["c"], ngram, encoder, labels, Same(3000, "en"), baseRate: 0.3);

        Assert.True(combination.EceMax < 0.05, $"ECE {combination.EceMax}");
        var mean = Enumerable.Range(0, 3000).Average(i => combination.Combine(0, "en", ngram[i][0], encoder[i][0]).Score);
        Assert.Equal(labels.Count(l => l[0]) / 3000.0, mean, 1);   // the mean probability is the share of positives
    }
}
