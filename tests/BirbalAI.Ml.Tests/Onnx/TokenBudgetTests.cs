using BirbalAI.Ml.Onnx;
using BirbalAI.Ml.Tests.Serving;

namespace BirbalAI.Ml.Tests.Onnx;

/// <summary>A call is padded to its longest text: the token budget keeps texts × longest bounded, whatever the mix.</summary>
public sealed class TokenBudgetTests
{
    [Fact]
    public void Calls_stay_within_the_budget_and_a_long_text_runs_alone()
    {
        int[] lengths = [3, 5, 8, 10, 10, 40, 1_000];

        var batches = OnnxScorer.Batches(lengths, maxTexts: 256, maxBatchFeatures: 50).ToList();

        Assert.Equal([(0, 5), (5, 1), (6, 1)], batches);
        Assert.All(batches.Where(b => b.Count > 1), b => Assert.True(b.Count * lengths[b.Start + b.Count - 1] <= 50));
        Assert.Equal(lengths.Length, batches.Sum(b => b.Count));
    }

    [Fact]
    public void The_text_limit_still_caps_a_call()
    {
        var batches = OnnxScorer.Batches(Enumerable.Repeat(2, 10).ToArray(), maxTexts: 4, maxBatchFeatures: 1_000).ToList();

        Assert.Equal([4, 4, 2], batches.Select(b => b.Count));
    }

    [Fact]
    public void A_long_text_among_short_ones_does_not_change_their_scores()
    {
        var model = ToyModel.Load();
        string[] texts = ["nice weather idiot", "you are dead see you soon", string.Join(' ', Enumerable.Repeat("thanks a lot for the lunch", 400))];
        var features = texts.Select(model.Featurizer!.Featurize).ToList();

        var budgeted = model.Score(features, maxBatchFeatures: 64);
        var alone = features.Select(f => model.Score([f])[0]).ToList();

        for (var i = 0; i < texts.Length; i++)
            Assert.Equal(alone[i], budgeted[i], (a, b) => Math.Abs(a - b) < 1e-5);
        model.Release();
    }
}
