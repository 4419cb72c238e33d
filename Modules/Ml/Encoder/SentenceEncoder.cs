using System.Numerics.Tensors;
using BirbalAI.Ml.Serving;
using Microsoft.ML.OnnxRuntime;

namespace BirbalAI.Ml.Encoder;

/// <summary>Texts' sentence embeddings (L2-normalised, <see cref="SentenceEncoder.Dimensions"/> floats each) and how much of each was read.</summary>
sealed record EncodedTexts(float[][] Embeddings, TextCoverage[] Coverage);

/// <summary>
/// all-MiniLM-L6-v2 in ONNX Runtime: a window's embedding is the mean of <c>last_hidden_state</c> over its attention
/// mask, L2-normalised (as the model was trained); a text's is the mean of its windows', normalised again.
/// The session comes from the caller (<c>SessionFactory</c>: CUDA with the CPU fallback, no CPU arena).
/// </summary>
sealed class SentenceEncoder(InferenceSession session, EncoderTokenizer tokenizer, string modelPath) : IDisposable
{
    public const int Dimensions = 384;
    public const string InputIds = "input_ids", AttentionMask = "attention_mask", TokenTypeIds = "token_type_ids", HiddenState = "last_hidden_state";

    static readonly string[] Inputs = [InputIds, AttentionMask, TokenTypeIds];
    static readonly string[] Outputs = [HiddenState];
    readonly RunOptions runOptions = new();

    public EncoderTokenizer Tokenizer => tokenizer;

    /// <summary>The encoder's model.onnx: what <see cref="EncoderExport"/> composes the heads with.</summary>
    public string ModelPath => modelPath;

    /// <summary>The vocabulary beside <see cref="ModelPath"/>, which the tokenizer reads.</summary>
    public string VocabularyPath => Path.Combine(Path.GetDirectoryName(modelPath)!, EncoderFiles.VocabularyFile);

    /// <summary>SHA-256 of <see cref="ModelPath"/>: half of an embedding's cache key.</summary>
    public string ModelHash => EncoderFiles.Hash(modelPath);

    /// <summary>The pretrained encoder shipped in the output (<see cref="EncoderFiles"/>), on a session of <paramref name="sessions"/>.</summary>
    public static SentenceEncoder Open(SessionFactory sessions, EncoderSettings settings) =>
        new(sessions.Create(File.ReadAllBytes(EncoderFiles.ModelPath)), new EncoderTokenizer(EncoderFiles.VocabularyPath, settings), EncoderFiles.ModelPath);

    public EncodedTexts Embed(IReadOnlyList<string> texts, CancellationToken ct = default)
    {
        var tokenized = texts.AsParallel().AsOrdered().Select(tokenizer.Tokenize).ToArray();
        var embeddings = new float[texts.Count][];
        foreach (var batch in EncoderBatches.Plan(tokenized, tokenizer.Settings))
        {
            ct.ThrowIfCancellationRequested();
            var windows = Run(batch.Select(i => tokenized[i]).ToList());
            var row = 0;
            foreach (var i in batch)
            {
                var count = tokenized[i].Windows.Count;
                embeddings[i] = Pool(windows, row, count);
                row += count;
            }
        }
        return new EncodedTexts(embeddings, [.. tokenized.Select(t => t.Coverage)]);
    }

    /// <summary>One call: the L2-normalised embedding of every window of these texts, [windows × 384].</summary>
    float[] Run(IReadOnlyList<TokenizedText> texts)
    {
        var packed = EncoderBatches.Pack(texts);
        long[] shape = [packed.Windows, packed.Length];
        var hidden = new float[packed.Windows * packed.Length * Dimensions];
        using var ids = OrtValue.CreateTensorValueFromMemory(packed.InputIds, shape);
        using var mask = OrtValue.CreateTensorValueFromMemory(packed.AttentionMask, shape);
        using var types = OrtValue.CreateTensorValueFromMemory(packed.TokenTypeIds, shape);
        using var output = OrtValue.CreateTensorValueFromMemory(hidden, [packed.Windows, packed.Length, Dimensions]);
        session.Run(runOptions, Inputs, [ids, mask, types], Outputs, [output]);

        var windows = new float[packed.Windows * Dimensions];
        for (var w = 0; w < packed.Windows; w++)
        {
            var sum = windows.AsSpan(w * Dimensions, Dimensions);
            for (var t = 0; t < packed.Length && packed.AttentionMask[w * packed.Length + t] == 1; t++)
                TensorPrimitives.Add(sum, hidden.AsSpan((w * packed.Length + t) * Dimensions, Dimensions), sum);
            Normalize(sum);   // the mean's direction is the sum's: no division needed before normalising
        }
        return windows;
    }

    static float[] Pool(float[] windows, int first, int count)
    {
        var embedding = windows.AsSpan(first * Dimensions, Dimensions).ToArray();
        for (var w = 1; w < count; w++) TensorPrimitives.Add(embedding, windows.AsSpan((first + w) * Dimensions, Dimensions), embedding);
        if (count > 1) Normalize(embedding);
        return embedding;
    }

    internal static void Normalize(Span<float> vector)
    {
        var norm = TensorPrimitives.Norm(vector);
        if (norm > 0) TensorPrimitives.Divide(vector, norm, vector);
    }

    public void Dispose()
    {
        runOptions.Dispose();
        session.Dispose();
    }
}
