using BirbalAI.Ml.Data;
using BirbalAI.Ml.Features;
using BirbalAI.Ml.Onnx;
using BirbalAI.Ml.Training;

namespace BirbalAI.Ml.Tests.Training;

public sealed class TrainerTests
{
    static readonly string[] Categories = ["insult", "threat"];
    static readonly FeaturizerSettings Small = new(Buckets: 20_000);

    /// <summary>A toy task: insults name an insult word, threats a threat; the rest is chatter.</summary>
    internal static List<LabelledText> Toy(int count, int seed)
    {
        var random = new Random(seed);
        string[] insults = ["idiot", "clown", "loser", "moron"], threats = ["i will hurt you", "watch your back", "you are dead"],
            chatter = ["nice weather", "see you soon", "great match", "lunch at noon", "thanks a lot", "good morning"];
        var rows = new List<LabelledText>();
        for (var i = 0; i < count; i++)
        {
            var labels = new List<string>();
            var text = chatter[random.Next(chatter.Length)];
            if (random.Next(3) == 0) { text += " " + insults[random.Next(insults.Length)]; labels.Add("insult"); }
            if (random.Next(4) == 0) { text = threats[random.Next(threats.Length)] + " " + text; labels.Add("threat"); }
            rows.Add(new LabelledText(text, labels));
        }
        return rows;
    }

    static List<FeaturizedExample> Featurize(IReadOnlyList<LabelledText> rows) => ModelTraining.Featurize(rows, Categories, new Featurizer(Small));

    [Fact]
    public void It_learns_a_simple_multi_label_task()
    {
        var (model, report) = new Trainer(new TrainingSettings(Epochs: 10)).Train(Small, Categories, Featurize(Toy(2000, 1)), ct: TestContext.Current.CancellationToken);

        Assert.Equal(10, report.EpochsRun);
        var features = new Featurizer(Small);
        Assert.True(model.Predict(features.Featurize("nice weather idiot"))[0] > 0.9);
        Assert.True(model.Predict(features.Featurize("you are dead see you soon"))[1] > 0.9);
        Assert.All(model.Predict(features.Featurize("thanks a lot")), score => Assert.True(score < 0.1));
    }

    [Fact]
    public void One_thread_and_a_seed_give_the_same_model_to_the_bit()
    {
        var data = Featurize(Toy(500, 2));
        var settings = new TrainingSettings(Epochs: 3, Threads: 1, Seed: 42);

        var (a, _) = new Trainer(settings).Train(Small, Categories, data, ct: TestContext.Current.CancellationToken);
        var (b, _) = new Trainer(settings).Train(Small, Categories, data, ct: TestContext.Current.CancellationToken);
        var (c, _) = new Trainer(settings with { Seed = 43 }).Train(Small, Categories, data, ct: TestContext.Current.CancellationToken);

        Assert.True(a.Embeddings.AsSpan().SequenceEqual(b.Embeddings));
        Assert.True(a.Weights.AsSpan().SequenceEqual(b.Weights));
        Assert.True(a.Bias.AsSpan().SequenceEqual(b.Bias));
        Assert.False(a.Weights.AsSpan().SequenceEqual(c.Weights));
    }

    [Fact]
    public void Early_stopping_ends_training_when_validation_loss_stops_improving()
    {
        var data = Featurize(Toy(600, 3));
        var validation = Featurize(Toy(200, 4));

        var (_, report) = new Trainer(new TrainingSettings(Epochs: 200, EarlyStopping: true, Patience: 2, Threads: 1))
            .Train(Small, Categories, data, validation, ct: TestContext.Current.CancellationToken);

        Assert.InRange(report.EpochsRun, 2, 199);
        Assert.Equal(report.EpochsRun, report.ValidationLoss.Count);
    }

    [Fact]
    public void ONNX_Runtime_scores_equal_the_trainers_within_1e_5()
    {
        var (model, _) = new Trainer(new TrainingSettings(Epochs: 3)).Train(Small, Categories, Featurize(Toy(300, 5)), ct: TestContext.Current.CancellationToken);
        string[] texts = ["nice weather idiot", "you are dead", "", "a much longer message about lunch at noon and a great match with friends"];
        var features = new Featurizer(Small);

        using var scorer = new OnnxScorer(OnnxExport.ToBytes(model), Small);
        var onnx = scorer.Score(texts);

        for (var i = 0; i < texts.Length; i++)
        {
            var expected = model.Predict(features.Featurize(BirbalAI.Ml.Text.TextNormalizer.Normalize(texts[i])));
            for (var c = 0; c < Categories.Length; c++) Assert.Equal(expected[c], onnx[i][c], 1e-5f);
        }
    }

    [Fact]
    public void A_model_at_default_settings_holds_one_row_of_category_contributions_per_bucket()
    {
        var model = new LinearModel(new FeaturizerSettings(), new TrainingSettings().Dim, BirbalAI.Ml.Categories.Default);

        var bytes = OnnxExport.ToBytes(model).Length;

        // 200,000 buckets × 13 categories × 4 bytes (format 4); the embeddings (× 32) are not in the graph.
        var table = (long)new FeaturizerSettings().Buckets * BirbalAI.Ml.Categories.Default.Count * sizeof(float);
        Assert.InRange(bytes, table, table + 64 * 1024);
    }
}
