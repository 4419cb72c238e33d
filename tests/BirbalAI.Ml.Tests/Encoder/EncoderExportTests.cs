using BirbalAI.Ml.Encoder;
using BirbalAI.Ml.Serving;
using BirbalAI.Ml.Tests.Serving;

namespace BirbalAI.Ml.Tests.Encoder;

public sealed class EncoderExportTests : IDisposable
{
    static readonly string[] Categories = ["insult", "threat"];
    readonly string directory = Path.Combine(Path.GetTempPath(), "birbal-encoder-model-" + Guid.NewGuid().ToString("N"));

    static readonly string[] Train =
    [
        "you are an idiot", "what a clown you are", "shut up you moron", "nobody likes you, loser",
        "i will hurt you", "watch your back tonight", "you are dead when i find you", "i know where you live",
        "nice weather today", "see you at lunch", "great match yesterday", "thanks for the help",
        "the bus was late again", "happy birthday to your sister", "the recipe needs more salt", "good morning everyone",
    ];

    static readonly HeadSettings Settings = new(Epochs: 200, BatchSize: 16, LearningRate: 0.05f);

    static bool[][] Labels => [.. Train.Select((_, i) => new[] { i < 4, i is >= 4 and < 8 })];

    [Fact]
    public void Trained_once_per_corpus_the_composed_graph_scores_as_the_heads_on_the_encoders_embeddings()
    {
        // Small windows: the long text below spans all three, so the graph's pooling over windows is checked too.
        var encoder = Encoders.SmallWindowEncoder;
        var ct = TestContext.Current.CancellationToken;
        var cache = new EmbeddingCache(Path.Combine(directory, "cache"));
        var first = EncoderTraining.Train(encoder, Train, Labels, Categories, Settings, cache, ct);
        var second = EncoderTraining.Train(encoder, Train, Labels, Categories, Settings, cache, ct);
        Assert.False(first.FromCache);
        Assert.True(second.FromCache);   // the same corpus and encoder: not embedded again
        Assert.True(first.Heads.Weights.AsSpan().SequenceEqual(second.Heads.Weights));
        var heads = second.Heads;
        EncoderExport.Write(Path.Combine(directory, "model"), second.Onnx, EncoderFiles.VocabularyPath);
        string[] texts = ["you absolute clown", "i am coming for you", "lovely weather for a picnic",
            "we walked to the lake every morning and swam until noon, then we had lunch by the water and read until the evening, "
            + "and then you idiot, you absolute idiot, ruined the whole week for all of us with your nonsense"];

        using var scorer = EncoderScorer.Open(Encoders.Sessions(), Path.Combine(directory, "model"), Encoders.Small);
        var scored = scorer.Score(texts);

        Assert.Equal(Categories, scorer.Categories);
        var expected = encoder.Embed(texts, ct).Embeddings.Select(e => heads.Predict(e)).ToArray();
        for (var i = 0; i < texts.Length; i++)
            Assert.Equal(expected[i], scored.Scores[i], (a, b) => Math.Abs(a - b) <= 1e-5);
        Assert.Equal(3, scorer.Tokenizer.Tokenize(texts[3]).Windows.Count);
        Assert.False(scored.Coverage[3].Complete);
        Assert.True(scored.Coverage[0].Complete);
        Assert.True(scored.Scores[0][0] > 0.5f && scored.Scores[2][0] < 0.5f, "the heads learned something");
        Assert.True(File.Exists(Path.Combine(directory, "model", "vocab.txt")));
    }

    public void Dispose()
    {
        if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
    }
}
