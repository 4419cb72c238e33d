using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using BirbalAI.Contracts.Ml;
using BirbalAI.Ml.Features;
using BirbalAI.Ml.Onnx;
using BirbalAI.Ml.Registry;
using Microsoft.ML.OnnxRuntime;
using Onnx;

namespace BirbalAI.Ml.Serving;

/// <summary>
/// One model version ready to serve: its ONNX Runtime session, its featuriser, and what each feature adds to each
/// category's logit (computed once from the weights in the ONNX file), which explains a score. Leased: the catalogue holds one lease while
/// the version is loaded, every request holds one while it runs, and the session is disposed when the last
/// lease goes, so a request that started on a version finishes on it after a swap.
/// </summary>
sealed class LoadedModel
{
    readonly OnnxScorer scorer;
    readonly Lazy<float[]> contributions;   // [buckets × categories]: embedding · category weights (smaller than the embeddings)
    readonly int classes;
    int leases = 1;

    public LoadedModel(ModelVersion version, byte[] onnx, InferenceSession session)
    {
        Version = version;
        Ref = new ModelRef(version.Id, version.Number);
        Featurizer = new Featurizer(version.FeaturizerSettings);
        scorer = new OnnxScorer(session, version.FeaturizerSettings);
        var graph = ModelProto.Parser.ParseFrom(onnx).Graph;
        var embeddings = Floats(graph, "embeddings", out var shape);       // [buckets × dim]
        var transposed = Floats(graph, "weights_out", out _);              // [dim × categories]
        int buckets = (int)shape[0], dim = (int)shape[1];
        classes = version.Categories.Length;
        // Built when first needed (only flagged texts are explained), then kept instead of the embeddings.
        contributions = new Lazy<float[]>(() =>
        {
            var weights = new float[classes * dim];
            for (var d = 0; d < dim; d++)
                for (var c = 0; c < classes; c++) weights[c * dim + d] = transposed[d * classes + c];
            var table = new float[(long)buckets * classes];
            for (var b = 0; b < buckets; b++)
            {
                var row = embeddings.AsSpan(b * dim, dim);
                for (var c = 0; c < classes; c++) table[(long)b * classes + c] = TensorPrimitives.Dot(row, weights.AsSpan(c * dim, dim));
            }
            return table;
        });
    }

    public ModelVersion Version { get; }
    public ModelRef Ref { get; }
    public Featurizer Featurizer { get; }
    public IReadOnlyList<string> Categories => Version.Categories;

    public float[][] Score(IReadOnlyList<int[]> features, int maxBatchFeatures = OnnxScorer.DefaultBatchFeatures) => scorer.ScoreAll(features, maxBatchFeatures);

    /// <summary>
    /// The n-grams that raised <paramref name="category"/>'s logit most: each occurrence adds
    /// embedding·weights/n (the model averages embeddings), summed per distinct n-gram, largest first.
    /// </summary>
    public IReadOnlyList<Contribution> Explain(int[] ids, string[] ngrams, int category, int top)
    {
        var table = contributions.Value;
        var totals = new Dictionary<string, float>();
        for (var i = 0; i < ids.Length; i++)
            totals[ngrams[i]] = totals.GetValueOrDefault(ngrams[i]) + table[(long)ids[i] * classes + category] / ids.Length;
        return [.. totals.Where(t => t.Value > 0).OrderByDescending(t => t.Value).ThenBy(t => t.Key, StringComparer.Ordinal)
            .Take(top).Select(t => new Contribution(t.Key, t.Value))];
    }

    public bool TryAcquire()
    {
        while (true)
        {
            var current = Volatile.Read(ref leases);
            if (current == 0) return false;   // already retired and released
            if (Interlocked.CompareExchange(ref leases, current + 1, current) == current) return true;
        }
    }

    public void Release()
    {
        if (Interlocked.Decrement(ref leases) == 0) scorer.Dispose();
    }

    /// <summary>True once the last lease is gone and the session disposed.</summary>
    public bool IsDisposed => Volatile.Read(ref leases) == 0;

    static float[] Floats(GraphProto graph, string name, out long[] shape)
    {
        var tensor = graph.Initializer.Single(t => t.Name == name);
        shape = [.. tensor.Dims];
        return MemoryMarshal.Cast<byte, float>(tensor.RawData.Span).ToArray();
    }
}
