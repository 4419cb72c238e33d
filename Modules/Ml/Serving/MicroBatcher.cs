using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace BirbalAI.Ml.Serving;

/// <summary>
/// Coalesces concurrent scoring requests into one ONNX Runtime call per component: a batch takes what is queued when the
/// batcher is free, up to <see cref="ServingOptions.MaxBatchTexts"/> texts, waiting at most
/// <see cref="ServingOptions.MaxBatchDelayMs"/> for more (0: not at all). With micro-batching off every
/// request runs alone, on its own thread.
/// Callers hold a lease on the model until their task completes, so a batch never runs on a disposed session.
/// </summary>
sealed class MicroBatcher : IAsyncDisposable
{
    sealed record Pending(LoadedModel Model, IReadOnlyList<PreparedText> Texts, TaskCompletionSource<ComponentScores[]> Done);

    static readonly Meter Meter = new($"{BirbalAI.Platform.PlatformModule.TelemetryName}.Ml.Serving");
    static readonly Histogram<int> BatchSize = Meter.CreateHistogram<int>("birbal.moderation.batch.size", "{text}",
        "Texts scored together in one ONNX Runtime call (1 for each request when micro-batching is off)",
        advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512] });

    readonly Channel<Pending> queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = false });
    readonly ServingOptions options;
    readonly ILogger<MicroBatcher> logger;
    readonly Task loop;

    public MicroBatcher(IOptions<ServingOptions> options, ILogger<MicroBatcher> logger)
    {
        this.options = options.Value;
        this.logger = logger;
        loop = this.options.MicroBatching ? Task.WhenAll(Enumerable.Range(0, this.options.BatchRunners).Select(_ => Task.Run(RunAsync))) : Task.CompletedTask;
    }

    /// <summary>Batches run so far and the texts they held (for metrics and tests).</summary>
    public long Batches => Interlocked.Read(ref batches);
    public long Texts => Interlocked.Read(ref texts);
    long batches, texts;

    /// <summary>An n-gram model's scores for featurised texts.</summary>
    public async Task<float[][]> ScoreAsync(LoadedModel model, IReadOnlyList<int[]> features) =>
        [.. (await ScoreAsync(model, [.. features.Select(f => new PreparedText(f))])).Select(s => s.Ngram!)];

    /// <summary>Every component's scores for prepared texts (<see cref="LoadedModel.Prepare"/>).</summary>
    public Task<ComponentScores[]> ScoreAsync(LoadedModel model, IReadOnlyList<PreparedText> texts)
    {
        if (!options.MicroBatching)
        {
            Count(texts.Count);
            return Task.FromResult(model.Score(texts, options.MaxBatchFeatures));
        }
        var pending = new Pending(model, texts, new TaskCompletionSource<ComponentScores[]>(TaskCreationOptions.RunContinuationsAsynchronously));
        if (!queue.Writer.TryWrite(pending)) throw new ObjectDisposedException(nameof(MicroBatcher));
        return pending.Done.Task;
    }

    async Task RunAsync()
    {
        var reader = queue.Reader;
        var batch = new List<Pending>();
        var delay = Stopwatch.Frequency * options.MaxBatchDelayMs / 1000;
        while (await reader.WaitToReadAsync())
        {
            if (!reader.TryRead(out var first)) continue;
            batch.Add(first);
            var size = first.Texts.Count;
            var deadline = Stopwatch.GetTimestamp() + delay;
            while (size < options.MaxBatchTexts)
            {
                if (reader.TryRead(out var next))
                {
                    batch.Add(next);
                    size += next.Texts.Count;
                    continue;
                }
                var remaining = deadline - Stopwatch.GetTimestamp();
                if (delay == 0 || remaining <= 0) break;
                var more = reader.WaitToReadAsync().AsTask();
                if (await Task.WhenAny(more, Task.Delay(TimeSpan.FromSeconds((double)remaining / Stopwatch.Frequency))) != more || !await more) break;
            }
            Run(batch);
            batch.Clear();
        }
    }

    void Run(List<Pending> batch)
    {
        // Nearly always one model; during a swap, one ONNX call per model.
        if (batch.TrueForAll(p => p.Model == batch[0].Model)) Run(batch[0].Model, batch);
        else foreach (var group in batch.GroupBy(p => p.Model)) Run(group.Key, group.ToList());
    }

    void Run(LoadedModel model, List<Pending> requests)
    {
        try
        {
            var texts = new List<PreparedText>(requests.Count);
            foreach (var request in requests) texts.AddRange(request.Texts);
            var scores = model.Score(texts, options.MaxBatchFeatures);
            Count(scores.Length);
            var offset = 0;
            foreach (var request in requests)
            {
                request.Done.SetResult(request.Texts.Count == 1 ? [scores[offset]] : scores[offset..(offset + request.Texts.Count)]);
                offset += request.Texts.Count;
            }
        }
        catch (Exception e)
        {
            logger.LogError(e, "Scoring a batch of {Requests} requests on model v{Number} failed", requests.Count, model.Ref.Number);
            foreach (var request in requests) request.Done.TrySetException(e);
        }
    }

    void Count(int size)
    {
        BatchSize.Record(size);
        Interlocked.Increment(ref batches);
        Interlocked.Add(ref texts, size);
    }

    public async ValueTask DisposeAsync()
    {
        queue.Writer.TryComplete();
        await loop;
    }
}
