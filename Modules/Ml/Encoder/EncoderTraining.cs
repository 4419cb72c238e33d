using System.Diagnostics;

namespace BirbalAI.Ml.Encoder;

/// <summary>
/// Labelled texts in, the encoder model kind out: embed (or read the embeddings cached for these texts and this
/// encoder), fit the heads, compose the graph. Texts are used as given: score them in the same form.
/// </summary>
static class EncoderTraining
{
    public sealed record Result(EncoderHeads Heads, byte[] Onnx, EncodedTexts Embedded, bool FromCache, double EmbedSeconds, double HeadSeconds);

    public static Result Train(SentenceEncoder encoder, IReadOnlyList<string> texts, IReadOnlyList<bool[]> labels,
        IReadOnlyList<string> categories, HeadSettings settings, EmbeddingCache? cache = null, CancellationToken ct = default)
    {
        var clock = Stopwatch.StartNew();
        var fromCache = true;
        EncodedTexts Embed(IReadOnlyList<string> t)
        {
            fromCache = false;
            return encoder.Embed(t, ct);
        }
        var embedded = cache is null ? Embed(texts) : cache.GetOrAdd(texts, encoder.ModelHash, encoder.Tokenizer.Settings, Embed);
        var embedSeconds = clock.Elapsed.TotalSeconds;
        var (heads, headSeconds) = EncoderHeads.Train(embedded.Embeddings, labels, categories, settings, ct);
        var onnx = EncoderExport.ToBytes(heads, File.ReadAllBytes(encoder.ModelPath), encoder.Tokenizer.Settings);
        return new Result(heads, onnx, embedded, fromCache, embedSeconds, headSeconds);
    }
}
