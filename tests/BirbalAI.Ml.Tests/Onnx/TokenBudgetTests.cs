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
    public void A_ragged_call_holds_texts_in_order_while_their_sum_fits_the_budget()
    {
        int[] lengths = [10, 1_000, 5, 30, 20, 3];

        var batches = OnnxScorer.RaggedBatches(lengths, maxTexts: 3, maxBatchFeatures: 60).ToList();

        Assert.Equal([(0, 1), (1, 1), (2, 3), (5, 1)], batches);
        Assert.All(batches.Where(b => b.Count > 1), b => Assert.True(lengths.AsSpan(b.Start, b.Count).ToArray().Sum() <= 60));
    }

    [Fact]
    public void Graphs_of_formats_2_and_3_score_as_the_format_4_one_and_the_trainer_do()
    {
        var linear = ToyModel.Linear;
        var sessions = ToyModel.Sessions();
        using var ragged = new OnnxScorer(sessions.Create(OnnxExport.ToBytes(linear)), linear.Featurizer);
        using var embeddings = new OnnxScorer(sessions.Create(OnnxExport.ToBytes(linear, combined: false)), linear.Featurizer);
        using var padded = new OnnxScorer(sessions.Create(OnnxExport.ToPaddedBytes(linear)), linear.Featurizer);
        string[] texts = ["nice weather idiot", "", "you are dead see you soon", string.Join(' ', Enumerable.Repeat("thanks a lot for the lunch", 40))];
        var features = texts.Select(t => new BirbalAI.Ml.Features.Featurizer(linear.Featurizer).Featurize(t)).ToList();

        var fromRagged = ragged.ScoreAll(features, maxBatchFeatures: 100);
        var fromPadded = padded.ScoreAll(features, maxBatchFeatures: 100);
        var fromEmbeddings = embeddings.ScoreAll(features, maxBatchFeatures: 100);

        for (var i = 0; i < texts.Length; i++)
        {
            Assert.Equal(fromPadded[i], fromRagged[i], (a, b) => Math.Abs(a - b) < 1e-5);
            Assert.Equal(fromEmbeddings[i], fromRagged[i], (a, b) => Math.Abs(a - b) < 1e-5);
            if (features[i].Length > 0) Assert.Equal(linear.Predict(features[i]), fromRagged[i], (a, b) => Math.Abs(a - b) < 1e-5);
        }
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
