using BirbalAI.Ml.Onnx;
using BirbalAI.Ml.Serving;
using Microsoft.ML.OnnxRuntime;

namespace BirbalAI.Ml.Encoder;

/// <summary>Per-text, per-category scores and how much of each text the encoder read (the rest is the n-gram model's).</summary>
sealed record EncoderScores(float[][] Scores, TextCoverage[] Coverage);

/// <summary>
/// Scores texts with an exported encoder model (<see cref="EncoderExport"/>): tokenise into windows, cut into calls
/// within the token budget (whole texts per call), run, scores per text in input order.
/// </summary>
sealed class EncoderScorer : IDisposable
{
    static readonly string[] Inputs = [SentenceEncoder.InputIds, SentenceEncoder.AttentionMask, SentenceEncoder.TokenTypeIds, EncoderExport.PoolingInput];
    static readonly string[] Outputs = [OnnxExport.ScoresOutput];
    readonly InferenceSession session;
    readonly RunOptions runOptions = new();

    /// <summary>Scores with <paramref name="session"/> (made by the caller, e.g. through SessionFactory); disposing the scorer disposes it.</summary>
    public EncoderScorer(InferenceSession session, EncoderTokenizer tokenizer)
    {
        this.session = session;
        Tokenizer = tokenizer;
        Categories = session.ModelMetadata.CustomMetadataMap.TryGetValue("categories", out var categories) && categories.Length > 0
            ? categories.Split('|') : throw new ArgumentException("the model names no categories");
    }

    /// <summary>A model directory as <see cref="EncoderExport.Write"/> leaves it: model.onnx and vocab.txt.</summary>
    public static EncoderScorer Open(SessionFactory sessions, string directory, EncoderSettings settings) =>
        new(sessions.Create(File.ReadAllBytes(Path.Combine(directory, EncoderFiles.ModelFile))),
            new EncoderTokenizer(Path.Combine(directory, EncoderFiles.VocabularyFile), settings));

    public IReadOnlyList<string> Categories { get; }
    public EncoderTokenizer Tokenizer { get; }

    public EncoderScores Score(IReadOnlyList<string> texts)
    {
        var tokenized = texts.Count == 1 ? [Tokenizer.Tokenize(texts[0])] : texts.AsParallel().AsOrdered().Select(Tokenizer.Tokenize).ToArray();
        return new EncoderScores(ScoreTokenized(tokenized), [.. tokenized.Select(t => t.Coverage)]);
    }

    public float[][] ScoreTokenized(IReadOnlyList<TokenizedText> texts)
    {
        var scores = new float[texts.Count][];
        foreach (var batch in EncoderBatches.Plan(texts, Tokenizer.Settings))
        {
            var rows = Run(batch.Select(i => texts[i]).ToList());
            for (var k = 0; k < batch.Length; k++) scores[batch[k]] = rows[k];
        }
        return scores;
    }

    /// <summary>One ONNX Runtime call over these whole texts (OrtValues over our own arrays, in and out).</summary>
    float[][] Run(IReadOnlyList<TokenizedText> texts)
    {
        var packed = EncoderBatches.Pack(texts);
        var pooling = new float[texts.Count * packed.Windows];
        var window = 0;
        for (var t = 0; t < texts.Count; t++)
        {
            var count = texts[t].Windows.Count;
            pooling.AsSpan(t * packed.Windows + window, count).Fill(1f / count);
            window += count;
        }
        var classes = Categories.Count;
        var scores = new float[texts.Count * classes];
        long[] shape = [packed.Windows, packed.Length];
        using var ids = OrtValue.CreateTensorValueFromMemory(packed.InputIds, shape);
        using var mask = OrtValue.CreateTensorValueFromMemory(packed.AttentionMask, shape);
        using var types = OrtValue.CreateTensorValueFromMemory(packed.TokenTypeIds, shape);
        using var poolingValue = OrtValue.CreateTensorValueFromMemory(pooling, [texts.Count, packed.Windows]);
        using var output = OrtValue.CreateTensorValueFromMemory(scores, [texts.Count, classes]);
        session.Run(runOptions, Inputs, [ids, mask, types, poolingValue], Outputs, [output]);
        var rows = new float[texts.Count][];
        for (var t = 0; t < rows.Length; t++) rows[t] = scores.AsSpan(t * classes, classes).ToArray();
        return rows;
    }

    public void Dispose()
    {
        runOptions.Dispose();
        session.Dispose();
    }
}
