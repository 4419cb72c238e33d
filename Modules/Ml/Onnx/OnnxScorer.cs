using BirbalAI.Ml.Features;
using BirbalAI.Ml.Text;
using Microsoft.ML.OnnxRuntime;
using OrtSessionOptions = Microsoft.ML.OnnxRuntime.SessionOptions;

namespace BirbalAI.Ml.Onnx;

/// <summary>
/// Scores texts with an exported model in ONNX Runtime: normalise, featurise, pad into one batch, run.
/// The batch path the moderation service serves and the benchmark measures.
/// </summary>
sealed class OnnxScorer : IDisposable
{
    readonly InferenceSession session;
    readonly Featurizer featurizer;

    public OnnxScorer(byte[] model, FeaturizerSettings settings, int threads = 0)
        : this(NewSession(model, threads), settings) { }

    /// <summary>Scores with <paramref name="session"/> (made by the caller, e.g. on CUDA); disposing the scorer disposes it.</summary>
    public OnnxScorer(InferenceSession session, FeaturizerSettings settings)
    {
        this.session = session;
        featurizer = new Featurizer(settings);
        ragged = session.InputMetadata.ContainsKey(OnnxExport.SegmentsInput);
        classes = session.OutputMetadata[OnnxExport.ScoresOutput].Dimensions[^1];
    }

    /// <summary>A graph of format 3 takes every text's ids one after another; format 2 took them padded to the longest.</summary>
    readonly bool ragged;
    readonly int classes;

    static InferenceSession NewSession(byte[] model, int threads)
    {
        using var options = new OrtSessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        if (threads > 0) options.IntraOpNumThreads = threads;
        return new InferenceSession(model, options);
    }

    public const int BatchSize = 256;

    /// <summary>The token budget of a call when the caller gives none (offline scoring; the service sets its own).</summary>
    public const int DefaultBatchFeatures = 262_144;

    /// <summary>Per-text, per-category scores.</summary>
    public float[][] Score(IReadOnlyList<string> texts) =>
        ScoreAll(texts.Select(t => featurizer.Featurize(TextNormalizer.Normalize(t))).ToArray());

    /// <summary>
    /// Scores featurised texts in calls of at most <see cref="BatchSize"/> texts whose size stays within
    /// <paramref name="maxBatchFeatures"/> (a text over the budget runs alone), so the budget bounds each call's
    /// memory whatever the mix. A ragged graph's size is the sum of its texts' features, taken in input order; a
    /// padded one's is texts × the longest, so its texts are sorted by length first. Results in input order.
    /// </summary>
    public float[][] ScoreAll(IReadOnlyList<int[]> features, int maxBatchFeatures = DefaultBatchFeatures)
    {
        if (features.Count == 0) return [];
        if (features.Count == 1) return ScoreFeatures(features);
        var order = ragged ? Enumerable.Range(0, features.Count).ToArray() : [.. Enumerable.Range(0, features.Count).OrderBy(i => features[i].Length)];
        var lengths = order.Select(i => features[i].Length).ToArray();
        var scores = new float[features.Count][];
        foreach (var (start, count) in ragged ? RaggedBatches(lengths, BatchSize, maxBatchFeatures) : Batches(lengths, BatchSize, maxBatchFeatures))
        {
            var chunk = order.AsSpan(start, count).ToArray();
            var batch = ScoreFeatures(chunk.Select(i => features[i]).ToList());
            for (var k = 0; k < chunk.Length; k++) scores[chunk[k]] = batch[k];
        }
        return scores;
    }

    /// <summary>Cuts ascending <paramref name="lengths"/> into runs of at most <paramref name="maxTexts"/> whose count × last length fits the budget.</summary>
    internal static IEnumerable<(int Start, int Count)> Batches(int[] lengths, int maxTexts, long maxBatchFeatures)
    {
        var start = 0;
        while (start < lengths.Length)
        {
            var count = 1;
            while (start + count < lengths.Length && count < maxTexts && (long)(count + 1) * lengths[start + count] <= maxBatchFeatures) count++;
            yield return (start, count);
            start += count;
        }
    }

    /// <summary>Cuts <paramref name="lengths"/> into runs of at most <paramref name="maxTexts"/> whose sum fits the budget.</summary>
    internal static IEnumerable<(int Start, int Count)> RaggedBatches(int[] lengths, int maxTexts, long maxBatchFeatures)
    {
        var start = 0;
        while (start < lengths.Length)
        {
            var count = 1;
            long total = lengths[start];
            while (start + count < lengths.Length && count < maxTexts && total + lengths[start + count] <= maxBatchFeatures) total += lengths[start + count++];
            yield return (start, count);
            start += count;
        }
    }

    /// <summary>One ONNX Runtime call for these featurised texts (OrtValues over our own arrays: no copies).</summary>
    public float[][] ScoreFeatures(IReadOnlyList<int[]> features) => ragged ? ScoreRagged(features) : ScorePadded(features);

    float[][] ScoreRagged(IReadOnlyList<int[]> features)
    {
        var total = 0;
        foreach (var f in features) total += f.Length;
        var ids = new long[total];
        var segments = new long[total];
        var lengths = new float[features.Count];
        var at = 0;
        for (var b = 0; b < features.Count; b++)
        {
            lengths[b] = Math.Max(1, features[b].Length);   // an empty text's sum is zero: its mean too
            for (var i = 0; i < features[b].Length; i++, at++)
            {
                ids[at] = features[b][i];
                segments[at] = b;
            }
        }
        var scores = new float[features.Count * classes];
        using var idsValue = OrtValue.CreateTensorValueFromMemory(ids, [total]);
        using var segmentsValue = OrtValue.CreateTensorValueFromMemory(segments, [total, 1]);
        using var lengthsValue = OrtValue.CreateTensorValueFromMemory(lengths, [features.Count, 1]);
        using var output = OrtValue.CreateTensorValueFromMemory(scores, [features.Count, classes]);
        session.Run(RunOptions, RaggedInputs, [idsValue, segmentsValue, lengthsValue], Outputs, [output]);
        var rows = new float[features.Count][];
        for (var b = 0; b < rows.Length; b++) rows[b] = scores.AsSpan(b * classes, classes).ToArray();
        return rows;
    }

    float[][] ScorePadded(IReadOnlyList<int[]> features)
    {
        var length = features.Max(f => f.Length);
        var ids = new long[features.Count * length];
        var weights = new float[features.Count * length];
        for (var b = 0; b < features.Count; b++)
        {
            var weight = 1f / features[b].Length;
            var row = b * length;
            for (var i = 0; i < features[b].Length; i++)
            {
                ids[row + i] = features[b][i];
                weights[row + i] = weight;
            }
        }
        using var idsValue = OrtValue.CreateTensorValueFromMemory(ids, [features.Count, length]);
        using var weightsValue = OrtValue.CreateTensorValueFromMemory(weights, [features.Count, 1, length]);
        using var results = session.Run(RunOptions, Inputs, [idsValue, weightsValue], Outputs);
        var scores = results[0].GetTensorDataAsSpan<float>();
        var classes = scores.Length / features.Count;
        var rows = new float[features.Count][];
        for (var b = 0; b < rows.Length; b++) rows[b] = scores.Slice(b * classes, classes).ToArray();
        return rows;
    }

    static readonly RunOptions RunOptions = new();
    static readonly string[] Inputs = [OnnxExport.IdsInput, OnnxExport.WeightsInput];
    static readonly string[] RaggedInputs = [OnnxExport.IdsInput, OnnxExport.SegmentsInput, OnnxExport.LengthsInput];
    static readonly string[] Outputs = [OnnxExport.ScoresOutput];

    public void Dispose() => session.Dispose();
}
