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
    {
        using var options = new OrtSessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        if (threads > 0) options.IntraOpNumThreads = threads;
        session = new InferenceSession(model, options);
        featurizer = new Featurizer(settings);
    }

    public const int BatchSize = 256;

    /// <summary>Per-text, per-category scores.</summary>
    public float[][] Score(IReadOnlyList<string> texts)
    {
        if (texts.Count == 0) return [];
        var features = texts.Select(t => featurizer.Featurize(TextNormalizer.Normalize(t))).ToArray();
        // Texts of similar length share a batch: a batch is padded to its longest text, so this saves most padding.
        var order = Enumerable.Range(0, features.Length).OrderBy(i => features[i].Length).ToArray();
        var scores = new float[features.Length][];
        foreach (var chunk in order.Chunk(BatchSize))
        {
            var batch = ScoreFeatures(chunk.Select(i => features[i]).ToList());
            for (var k = 0; k < chunk.Length; k++) scores[chunk[k]] = batch[k];
        }
        return scores;
    }

    /// <summary>One ONNX Runtime call for these featurised texts (OrtValues over our own arrays: no copies).</summary>
    public float[][] ScoreFeatures(IReadOnlyList<int[]> features)
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
    static readonly string[] Outputs = [OnnxExport.ScoresOutput];

    public void Dispose() => session.Dispose();
}
