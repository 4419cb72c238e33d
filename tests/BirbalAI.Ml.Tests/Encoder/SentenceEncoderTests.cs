using System.Numerics.Tensors;
using BirbalAI.Ml.Encoder;
using BirbalAI.Ml.Serving;
using BirbalAI.Ml.Tests.Serving;
using Microsoft.Extensions.Logging;

namespace BirbalAI.Ml.Tests.Encoder;

public sealed class SentenceEncoderTests
{
    [Fact]
    public void Embeddings_are_unit_length_and_similar_sentences_are_closer_than_unrelated_ones()
    {
        var embedded = Encoders.Encoder.Embed(["The cat sits on the mat.", "A cat is sitting on a rug.", "Stock markets fell sharply on Tuesday."],
            TestContext.Current.CancellationToken);

        Assert.All(embedded.Embeddings, e =>
        {
            Assert.Equal(SentenceEncoder.Dimensions, e.Length);
            Assert.Equal(1f, TensorPrimitives.Norm(e), 1e-4f);
        });
        var similar = TensorPrimitives.Dot(embedded.Embeddings[0], embedded.Embeddings[1]);
        var unrelated = TensorPrimitives.Dot(embedded.Embeddings[0], embedded.Embeddings[2]);
        Assert.True(similar > 0.5f, $"similar {similar}");
        Assert.True(similar > unrelated + 0.3f, $"similar {similar}, unrelated {unrelated}");
    }

    [Fact]
    public void A_text_embeds_the_same_alone_and_in_a_padded_batch()
    {
        string[] texts = ["short one", "a rather longer sentence that pads the batch for the short one quite a bit", "you are a clown"];

        var together = Encoders.Encoder.Embed(texts, TestContext.Current.CancellationToken);
        var alone = Encoders.Encoder.Embed([texts[0]], TestContext.Current.CancellationToken);

        Assert.Equal(alone.Embeddings[0], together.Embeddings[0], (a, b) => Math.Abs(a - b) < 1e-5);
    }

    [Fact]
    public void A_text_of_several_windows_is_the_normalised_mean_of_its_windows()
    {
        var encoder = Encoders.SmallWindowEncoder;
        var text = "the weather was lovely all week, we walked to the lake every morning and swam until noon before lunch";
        var windows = encoder.Tokenizer.Tokenize(text).Windows;
        Assert.Equal(2, windows.Count);
        // Each window on its own: the tokeniser cut there, and the pieces of each window read back as text.
        var halves = windows.Select(w => string.Join(" ", w[1..^1].Select(Encoders.Token)).Replace(" ##", "")).ToArray();

        var whole = encoder.Embed([text], TestContext.Current.CancellationToken).Embeddings[0];
        var parts = encoder.Embed(halves, TestContext.Current.CancellationToken).Embeddings;

        var mean = new float[SentenceEncoder.Dimensions];
        TensorPrimitives.Add(parts[0], parts[1], mean);
        SentenceEncoder.Normalize(mean);
        Assert.Equal(mean, whole, (a, b) => Math.Abs(a - b) < 1e-4);
    }

    [Fact]
    public void Cuda_that_cannot_load_falls_back_to_the_cpu_and_the_encoder_still_embeds()
    {
        var logger = new RecordingLogger<SessionFactory>();
        var sessions = ToyModel.Sessions(new ServingOptions { ExecutionProvider = ExecutionProvider.Cuda, IntraOpThreads = 2 }, logger);

        using var encoder = SentenceEncoder.Open(sessions, EncoderSettings.Default);
        var embedded = encoder.Embed(["you are a clown"], TestContext.Current.CancellationToken);

        Assert.Equal("CPU", sessions.LastProvider);
        Assert.Contains(logger.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains("CUDA provider cannot load"));
        var cpu = Encoders.Encoder.Embed(["you are a clown"], TestContext.Current.CancellationToken);
        Assert.Equal(cpu.Embeddings[0], embedded.Embeddings[0], (a, b) => Math.Abs(a - b) < 1e-5);
    }
}
