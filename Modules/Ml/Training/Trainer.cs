using System.Diagnostics;
using BirbalAI.Ml.Data;
using System.Numerics.Tensors;
using BirbalAI.Ml.Features;

namespace BirbalAI.Ml.Training;

/// <param name="CalibrationBaseRate">
/// The share of each category in the traffic the calibrated scores are meant for (Platt scaling on validation
/// data, then shifted from the data's own share to this one); null: no calibration. The corpus is balanced —
/// a category makes up 5–10% of it — while real traffic holds far less, so a score of 0.5 should mean "as
/// likely as not" there, not in the corpus.
/// </param>
sealed record TrainingSettings(
    int Dim = 32, int Epochs = 25, float LearningRate = 0.2f, int Threads = 2, int Seed = 1,
    bool ClassWeighting = true, bool EarlyStopping = false, int Patience = 3, double? CalibrationBaseRate = null)
{
    public void Validate()
    {
        if (Dim is < 2 or > 1024) throw new ArgumentException($"dim: 2 to 1024, not {Dim}");
        if (Epochs is < 1 or > 1000) throw new ArgumentException($"epochs: 1 to 1000, not {Epochs}");
        if (LearningRate is <= 0 or > 10) throw new ArgumentException($"learning rate: above 0, at most 10, not {LearningRate}");
        if (Threads is < 1 or > 256) throw new ArgumentException($"threads: 1 to 256, not {Threads}");
        if (CalibrationBaseRate is <= 0 or >= 1) throw new ArgumentException($"calibration base rate: between 0 and 1, not {CalibrationBaseRate}");
    }
}

/// <summary>One featurised example: its feature ids and a 0/1 per category.</summary>
sealed record FeaturizedExample(int[] Ids, bool[] Labels);

/// <summary>After each epoch: how many ran of how many, the validation loss (null without validation rows), seconds so far.</summary>
sealed record TrainingProgress(int Epoch, int Epochs, double? Loss, double Seconds);

sealed record TrainingReport(int EpochsRun, double Seconds, IReadOnlyList<double> ValidationLoss);

/// <summary>
/// Trains a <see cref="LinearModel"/> fastText-style: stochastic gradient descent on the binary
/// cross-entropy of every category, learning rate decaying linearly to zero, rare categories' positives
/// weighted up, threads updating the shared weights without locks (Hogwild). With one thread and a seed
/// the result is the same to the bit every time.
/// </summary>
sealed class Trainer(TrainingSettings settings)
{
    public (LinearModel Model, TrainingReport Report) Train(
        FeaturizerSettings featurizer, IReadOnlyList<string> categories,
        IReadOnlyList<FeaturizedExample> train, IReadOnlyList<FeaturizedExample>? validation = null, CancellationToken ct = default,
        Action<TrainingProgress>? progress = null)
    {
        settings.Validate();
        featurizer.Validate();
        if (train.Count == 0) throw new ArgumentException("no training examples");
        var clock = Stopwatch.StartNew();
        var model = new LinearModel(featurizer, settings.Dim, categories);
        var random = new Random(settings.Seed);
        var bound = 1f / settings.Dim;
        for (var i = 0; i < model.Embeddings.Length; i++) model.Embeddings[i] = (float)(random.NextDouble() * 2 - 1) * bound;

        var positiveWeight = PositiveWeights(categories.Count, train);
        var order = Enumerable.Range(0, train.Count).ToArray();
        var total = (long)settings.Epochs * train.Count;
        long done = 0;
        var losses = new List<double>();
        var best = double.MaxValue;
        var sinceBest = 0;
        var epochs = 0;
        for (var epoch = 0; epoch < settings.Epochs; epoch++)
        {
            ct.ThrowIfCancellationRequested();
            random.Shuffle(order);
            var shards = Math.Min(settings.Threads, order.Length);
            var offset = done;
            Parallel.For(0, shards, new ParallelOptions { MaxDegreeOfParallelism = shards, CancellationToken = ct }, shard =>
            {
                var hidden = new float[settings.Dim];
                var gradHidden = new float[settings.Dim];
                var logits = new float[categories.Count];
                var step = 0L;
                for (var k = shard; k < order.Length; k += shards, step++)
                {
                    // Each shard walks its own part; the decay follows the overall progress.
                    var progress = (offset + step * shards) / (double)total;
                    var lr = settings.LearningRate * (float)Math.Max(1e-4, 1 - progress);
                    Update(model, train[order[k]], lr, positiveWeight, hidden, gradHidden, logits);
                }
            });
            done += train.Count;
            epochs++;
            double? epochLoss = null;
            var stop = false;
            if (validation is { Count: > 0 })
            {
                var loss = Loss(model, validation);
                losses.Add(loss);
                epochLoss = loss;
                if (settings.EarlyStopping)
                {
                    if (loss < best - 1e-6) { best = loss; sinceBest = 0; }
                    else if (++sinceBest >= settings.Patience) stop = true;
                }
            }
            progress?.Invoke(new TrainingProgress(epochs, settings.Epochs, epochLoss, clock.Elapsed.TotalSeconds));
            if (stop) break;
        }
        return (model, new TrainingReport(epochs, clock.Elapsed.TotalSeconds, losses));
    }

    static void Update(LinearModel model, FeaturizedExample example, float lr, float[] positiveWeight,
        float[] hidden, float[] gradHidden, float[] logits)
    {
        var dim = model.Dim;
        var classes = model.Categories.Count;
        model.Hidden(example.Ids, hidden);
        model.Logits(hidden, logits);
        Array.Clear(gradHidden);
        for (var c = 0; c < classes; c++)
        {
            var label = example.Labels[c];
            var g = LinearModel.Sigmoid(logits[c]) - (label ? 1f : 0f);
            if (label) g *= positiveWeight[c];
            g *= lr;
            var row = model.WeightRow(c);
            TensorPrimitives.MultiplyAdd(row, g, gradHidden, gradHidden);      // gradient of the hidden layer (old weights)
            TensorPrimitives.MultiplyAdd(hidden, -g, row, row);                // then the category's weights
            model.Bias[c] -= g;
        }
        TensorPrimitives.Multiply(gradHidden, -1f / example.Ids.Length, gradHidden);
        foreach (var id in example.Ids)
        {
            var row = model.Embeddings.AsSpan(id * dim, dim);
            TensorPrimitives.Add(row, gradHidden, row);
        }
    }

    /// <summary>sqrt(negatives / positives), between 1 and 10: rare categories count more, never overwhelmingly.</summary>
    float[] PositiveWeights(int classes, IReadOnlyList<FeaturizedExample> train)
    {
        var weights = new float[classes];
        for (var c = 0; c < classes; c++)
        {
            var positives = train.Count(e => e.Labels[c]);
            weights[c] = settings.ClassWeighting && positives > 0
                ? (float)Math.Clamp(Math.Sqrt((train.Count - positives) / (double)positives), 1, 10)
                : 1f;
        }
        return weights;
    }

    /// <summary>Mean binary cross-entropy per example and category.</summary>
    public static double Loss(LinearModel model, IReadOnlyList<FeaturizedExample> examples)
    {
        double sum = 0;
        foreach (var example in examples)
        {
            var scores = model.Predict(example.Ids);
            for (var c = 0; c < scores.Length; c++)
                sum -= Math.Log(Math.Clamp(example.Labels[c] ? scores[c] : 1 - scores[c], 1e-7, 1));
        }
        return sum / (examples.Count * model.Categories.Count);
    }
}
