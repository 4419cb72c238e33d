using System.Numerics.Tensors;
using BirbalAI.Ml.Encoder;

namespace BirbalAI.Ml.Tests.Encoder;

public sealed class EncoderHeadsTests(ITestOutputHelper output)
{
    static readonly string[] Categories = ["insult", "threat"];

    /// <summary>Unit vectors near one of three directions: insults near one, threats near another, the rest near a third.</summary>
    internal static (List<float[]> X, List<bool[]> Y) Toy(int count, int dim, int seed, int sample = 0)
    {
        var centreRandom = new Random(seed);
        var centres = Enumerable.Range(0, 3).Select(_ => Unit(Enumerable.Range(0, dim).Select(_ => (float)centreRandom.NextDouble() - 0.5f).ToArray())).ToArray();
        var random = new Random(seed * 1000 + sample + 1);
        var x = new List<float[]>();
        var y = new List<bool[]>();
        for (var i = 0; i < count; i++)
        {
            var kind = random.Next(10) switch { 0 => 1, < 3 => 0, _ => 2 };   // threats are rare
            var e = centres[kind].Select(c => c + ((float)random.NextDouble() - 0.5f) * 0.1f).ToArray();
            x.Add(Unit(e));
            y.Add([kind == 0, kind == 1]);
        }
        return (x, y);
    }

    static float[] Unit(float[] v)
    {
        SentenceEncoder.Normalize(v);
        return v;
    }

    [Fact]
    public void Heads_learn_a_separable_task_with_a_rare_category()
    {
        var (x, y) = Toy(2000, SentenceEncoder.Dimensions, 1);
        var (heads, _) = EncoderHeads.Train(x, y, Categories, new HeadSettings(), TestContext.Current.CancellationToken);

        var (testX, testY) = Toy(500, SentenceEncoder.Dimensions, 1, sample: 1);   // the same directions, fresh examples
        var correct = testX.Select((e, i) => heads.Predict(e).Select(s => s > 0.5f).SequenceEqual(testY[i])).Count(ok => ok);
        Assert.Equal(500, correct);
        Assert.All(testX.Where((_, i) => testY[i][1]), e => Assert.True(heads.Predict(e)[1] > 0.9f));
        Assert.All(testX.Where((_, i) => !testY[i][0] && !testY[i][1]), e => Assert.All(heads.Predict(e), s => Assert.True(s < 0.1f)));
    }

    [Fact]
    public void Training_is_deterministic_whatever_the_thread_count()
    {
        var (x, y) = Toy(300, 32, 2);

        var (one, _) = EncoderHeads.Train(x, y, Categories, new HeadSettings(Epochs: 3, Threads: 1), TestContext.Current.CancellationToken);
        var (two, _) = EncoderHeads.Train(x, y, Categories, new HeadSettings(Epochs: 3, Threads: 2), TestContext.Current.CancellationToken);
        var (other, _) = EncoderHeads.Train(x, y, Categories, new HeadSettings(Epochs: 3, Seed: 7), TestContext.Current.CancellationToken);

        Assert.True(one.Weights.AsSpan().SequenceEqual(two.Weights));
        Assert.True(one.Bias.AsSpan().SequenceEqual(two.Bias));
        Assert.False(one.Weights.AsSpan().SequenceEqual(other.Weights));
    }

    [Fact]
    public void Thirty_thousand_embeddings_train_in_seconds()
    {
        var (x, y2) = Toy(30_000, SentenceEncoder.Dimensions, 3);
        string[] categories = [.. Enumerable.Range(0, 8).Select(c => $"c{c}")];
        var y = y2.Select((l, i) => categories.Select((_, c) => c % 2 == 0 ? l[0] : l[1]).ToArray()).ToList();

        var (heads, seconds) = EncoderHeads.Train(x, y, categories, new HeadSettings(), TestContext.Current.CancellationToken);

        output.WriteLine($"30,000 × 384, 8 categories, 30 epochs: {seconds:F1} s");
        Assert.True(seconds < 20, $"{seconds:F1} s");
        Assert.True(heads.Predict(x[0]).All(float.IsFinite));
        Assert.Equal(1f, TensorPrimitives.Norm(x[0]), 1e-4f);
    }
}
