using BirbalAI.Ml.Features;
using BirbalAI.Ml.Text;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
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

    /// <summary>Per-text, per-category scores.</summary>
    public float[][] Score(IReadOnlyList<string> texts)
    {
        if (texts.Count == 0) return [];
        var features = texts.Select(t => featurizer.Featurize(TextNormalizer.Normalize(t))).ToArray();
        return ScoreFeatures(features);
    }

    public float[][] ScoreFeatures(IReadOnlyList<int[]> features)
    {
        var length = features.Max(f => f.Length);
        var ids = new DenseTensor<long>([features.Count, length]);
        var weights = new DenseTensor<float>([features.Count, length, 1]);
        for (var b = 0; b < features.Count; b++)
        {
            var weight = 1f / features[b].Length;
            for (var i = 0; i < features[b].Length; i++)
            {
                ids[b, i] = features[b][i];
                weights[b, i, 0] = weight;
            }
        }
        using var results = session.Run([
            NamedOnnxValue.CreateFromTensor(OnnxExport.IdsInput, ids),
            NamedOnnxValue.CreateFromTensor(OnnxExport.WeightsInput, weights),
        ]);
        var scores = results.First().AsTensor<float>();
        var classes = scores.Dimensions[1];
        return Enumerable.Range(0, features.Count).Select(b => Enumerable.Range(0, classes).Select(c => scores[b, c]).ToArray()).ToArray();
    }

    public void Dispose() => session.Dispose();
}
