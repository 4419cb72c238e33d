using System.Numerics.Tensors;
using BirbalAI.Ml.Features;

namespace BirbalAI.Ml.Training;

/// <summary>
/// The classifier: the embeddings of a text's feature ids averaged, a linear layer, one sigmoid per
/// category. <see cref="Thresholds"/> (tuned on validation data) turn scores into flags.
/// </summary>
sealed class LinearModel
{
    public LinearModel(FeaturizerSettings featurizer, int dim, IReadOnlyList<string> categories)
    {
        Featurizer = featurizer;
        Dim = dim;
        Categories = categories;
        Embeddings = new float[(long)featurizer.Buckets * dim];
        Weights = new float[dim * categories.Count];
        Bias = new float[categories.Count];
        Thresholds = [.. Enumerable.Repeat(0.5f, categories.Count)];
    }

    public FeaturizerSettings Featurizer { get; }
    public int Dim { get; }
    public IReadOnlyList<string> Categories { get; }
    /// <summary>[buckets × dim], row-major.</summary>
    public float[] Embeddings { get; }
    /// <summary>[categories × dim], one row per category (contiguous for SIMD; the export transposes it for MatMul).</summary>
    public float[] Weights { get; }
    public float[] Bias { get; }
    public float[] Thresholds { get; set; }

    /// <summary>The averaged embedding of <paramref name="ids"/> into <paramref name="hidden"/>.</summary>
    public void Hidden(ReadOnlySpan<int> ids, Span<float> hidden)
    {
        hidden.Clear();
        foreach (var id in ids) TensorPrimitives.Add(hidden, Embeddings.AsSpan(id * Dim, Dim), hidden);
        TensorPrimitives.Multiply(hidden, 1f / ids.Length, hidden);
    }

    /// <summary>Per-category scores (sigmoids) of the text with these feature ids.</summary>
    public float[] Predict(ReadOnlySpan<int> ids)
    {
        Span<float> hidden = stackalloc float[Dim];
        Hidden(ids, hidden);
        var scores = new float[Categories.Count];
        Logits(hidden, scores);
        for (var c = 0; c < scores.Length; c++) scores[c] = Sigmoid(scores[c]);
        return scores;
    }

    public void Logits(ReadOnlySpan<float> hidden, Span<float> logits)
    {
        for (var c = 0; c < logits.Length; c++) logits[c] = Bias[c] + TensorPrimitives.Dot(WeightRow(c), hidden);
    }

    public Span<float> WeightRow(int category) => Weights.AsSpan(category * Dim, Dim);

    public static float Sigmoid(float x) => x >= 0 ? 1f / (1f + MathF.Exp(-x)) : MathF.Exp(x) / (1f + MathF.Exp(x));
}
