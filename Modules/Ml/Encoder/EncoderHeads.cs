using System.Diagnostics;
using System.Numerics.Tensors;
using BirbalAI.Ml.Training;

namespace BirbalAI.Ml.Encoder;

sealed record HeadSettings(int Epochs = 30, int BatchSize = 128, float LearningRate = 0.01f, float L2 = 1e-4f,
    int Seed = 1, bool ClassWeighting = true, int Threads = 2)
{
    public void Validate()
    {
        if (Epochs is < 1 or > 1000) throw new ArgumentException($"epochs: 1 to 1000, not {Epochs}");
        if (BatchSize is < 1 or > 1 << 20) throw new ArgumentException($"batch size: 1 to 2^20, not {BatchSize}");
        if (LearningRate is <= 0 or > 10) throw new ArgumentException($"learning rate: above 0, at most 10, not {LearningRate}");
        if (L2 is < 0 or > 10) throw new ArgumentException($"L2: 0 to 10, not {L2}");
        if (Threads is < 1 or > 256) throw new ArgumentException($"threads: 1 to 256, not {Threads}");
    }
}

/// <summary>
/// One logistic regression per category on sentence embeddings: score = sigmoid(w·e + b). Exported inside the
/// encoder's graph by <see cref="EncoderExport"/>.
/// </summary>
sealed class EncoderHeads
{
    public EncoderHeads(IReadOnlyList<string> categories, int dim)
    {
        Categories = categories;
        Dim = dim;
        Weights = new float[categories.Count * dim];
        Bias = new float[categories.Count];
    }

    public IReadOnlyList<string> Categories { get; }
    public int Dim { get; }
    /// <summary>[categories × dim], one row per category.</summary>
    public float[] Weights { get; }
    public float[] Bias { get; }

    public Span<float> WeightRow(int category) => Weights.AsSpan(category * Dim, Dim);

    public float[] Predict(ReadOnlySpan<float> embedding)
    {
        var scores = new float[Categories.Count];
        for (var c = 0; c < scores.Length; c++) scores[c] = LinearModel.Sigmoid(Bias[c] + TensorPrimitives.Dot(WeightRow(c), embedding));
        return scores;
    }

    /// <summary>
    /// Mini-batch Adam on the class-weighted binary cross-entropy plus L2 on the weights, each category on its own
    /// (categories are shared out between threads, so the result is the same to the bit whatever the thread count).
    /// Positives of a rare category weigh sqrt(negatives / positives), between 1 and 10, as in the n-gram trainer.
    /// </summary>
    public static (EncoderHeads Heads, double Seconds) Train(IReadOnlyList<float[]> embeddings, IReadOnlyList<bool[]> labels,
        IReadOnlyList<string> categories, HeadSettings settings, CancellationToken ct = default)
    {
        settings.Validate();
        if (embeddings.Count == 0) throw new ArgumentException("no training examples");
        if (labels.Count != embeddings.Count) throw new ArgumentException($"{embeddings.Count} embeddings but {labels.Count} label rows");
        var clock = Stopwatch.StartNew();
        var dim = embeddings[0].Length;
        var heads = new EncoderHeads(categories, dim);
        var random = new Random(settings.Seed);
        var orders = new int[settings.Epochs][];
        for (var e = 0; e < orders.Length; e++)
        {
            orders[e] = Enumerable.Range(0, embeddings.Count).ToArray();
            random.Shuffle(orders[e]);
        }
        // A thread takes every Threads-th category and walks the data once per epoch for all of them: an embedding
        // is loaded once for its categories, not once per category.
        var threads = Math.Min(settings.Threads, categories.Count);
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads, CancellationToken = ct },
            t => TrainGroup(heads, [.. Enumerable.Range(0, categories.Count).Where(c => c % threads == t)], embeddings, labels, orders, settings, ct));
        return (heads, clock.Elapsed.TotalSeconds);
    }

    /// <summary>Adam's state for one category's weights and bias.</summary>
    sealed class Head(int dim)
    {
        public readonly float[] W = new float[dim], Grad = new float[dim], M = new float[dim], V = new float[dim];
        public float B, GradB, MB, VB, PositiveWeight;
    }

    static void TrainGroup(EncoderHeads heads, int[] group, IReadOnlyList<float[]> x, IReadOnlyList<bool[]> labels,
        int[][] orders, HeadSettings settings, CancellationToken ct)
    {
        const float Beta1 = 0.9f, Beta2 = 0.999f, Epsilon = 1e-8f;
        var dim = heads.Dim;
        var state = group.Select(c =>
        {
            var positives = labels.Count(l => l[c]);
            var head = new Head(dim)
            {
                PositiveWeight = settings.ClassWeighting && positives > 0
                    ? (float)Math.Clamp(Math.Sqrt((labels.Count - positives) / (double)positives), 1, 10)
                    : 1f,
            };
            // Start at the (weighted) base rate: the first steps then learn directions, not the prior.
            var rate = (positives * head.PositiveWeight + 0.5f) / (positives * head.PositiveWeight + (labels.Count - positives) + 1f);
            head.B = MathF.Log(rate / (1 - rate));
            return head;
        }).ToArray();
        var step = new float[dim];
        var steps = (long)orders.Length * ((x.Count + settings.BatchSize - 1) / settings.BatchSize);
        long t = 0;
        foreach (var order in orders)
        {
            ct.ThrowIfCancellationRequested();
            for (var start = 0; start < order.Length; start += settings.BatchSize)
            {
                var end = Math.Min(order.Length, start + settings.BatchSize);
                foreach (var head in state) { Array.Clear(head.Grad); head.GradB = 0; }
                for (var k = start; k < end; k++)
                {
                    var e = x[order[k]];
                    var label = labels[order[k]];
                    for (var h = 0; h < state.Length; h++)
                    {
                        var head = state[h];
                        var positive = label[group[h]];
                        var g = LinearModel.Sigmoid(head.B + TensorPrimitives.Dot(head.W, e)) - (positive ? 1f : 0f);
                        if (positive) g *= head.PositiveWeight;
                        TensorPrimitives.MultiplyAdd(e, g, head.Grad, head.Grad);
                        head.GradB += g;
                    }
                }
                t++;
                // The learning rate decays linearly to a tenth: the last epochs settle instead of jittering.
                var lr = settings.LearningRate * (float)(1 - 0.9 * (t - 1) / Math.Max(1, steps - 1));
                var correction1 = 1 - MathF.Pow(Beta1, t);
                var correction2 = 1 - MathF.Pow(Beta2, t);
                var n = end - start;
                foreach (var head in state)
                {
                    TensorPrimitives.Multiply(head.Grad, 1f / n, head.Grad);
                    TensorPrimitives.MultiplyAdd(head.W, settings.L2, head.Grad, head.Grad);   // L2 on the weights, not the bias
                    for (var i = 0; i < dim; i++)
                    {
                        var g = head.Grad[i];
                        head.M[i] = Beta1 * head.M[i] + (1 - Beta1) * g;
                        head.V[i] = Beta2 * head.V[i] + (1 - Beta2) * g * g;
                        step[i] = head.M[i] / correction1 / (MathF.Sqrt(head.V[i] / correction2) + Epsilon);
                    }
                    TensorPrimitives.MultiplyAdd(step, -lr, head.W, head.W);
                    var gb = head.GradB / n;
                    head.MB = Beta1 * head.MB + (1 - Beta1) * gb;
                    head.VB = Beta2 * head.VB + (1 - Beta2) * gb * gb;
                    head.B -= lr * (head.MB / correction1) / (MathF.Sqrt(head.VB / correction2) + Epsilon);
                }
            }
        }
        for (var h = 0; h < group.Length; h++)
        {
            state[h].W.CopyTo(heads.WeightRow(group[h]));
            heads.Bias[group[h]] = state[h].B;
        }
    }
}
