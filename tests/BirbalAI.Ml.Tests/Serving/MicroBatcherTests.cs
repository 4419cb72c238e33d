using BirbalAI.Ml.Serving;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace BirbalAI.Ml.Tests.Serving;

public sealed class MicroBatcherTests
{
    static MicroBatcher Batcher(int maxTexts, int delayMs, bool batching = true) => new(Options.Create(new ServingOptions
    {
        MicroBatching = batching, MaxBatchTexts = maxTexts, MaxBatchDelayMs = delayMs, BatchRunners = 1,
    }), NullLogger<MicroBatcher>.Instance);

    static readonly string[] Texts = ["nice weather idiot", "you are dead see you soon", "thanks a lot", "great match moron", "lunch at noon"];

    [Fact]
    public async Task Concurrent_requests_within_the_delay_share_one_batch_and_get_their_own_scores()
    {
        await using var batcher = Batcher(maxTexts: 64, delayMs: 200);
        var model = ToyModel.Load();

        var answers = await Task.WhenAll(Texts.Select(t => batcher.ScoreAsync(model, [model.Featurizer!.Featurize(t)])));

        Assert.Equal(1, batcher.Batches);
        Assert.Equal(Texts.Length, batcher.Texts);
        for (var i = 0; i < Texts.Length; i++)
            Assert.Equal(ToyModel.Linear.Predict(model.Featurizer!.Featurize(Texts[i])), answers[i][0], (a, b) => Math.Abs(a - b) < 1e-5);
        model.Release();
    }

    [Fact]
    public async Task A_batch_runs_as_soon_as_it_holds_the_maximum_number_of_texts()
    {
        // The delay is far longer than the test waits: only the size can have started these batches.
        await using var batcher = Batcher(maxTexts: 2, delayMs: 1000);
        var model = ToyModel.Load();

        var first = Task.WhenAll(batcher.ScoreAsync(model, [model.Featurizer!.Featurize(Texts[0])]), batcher.ScoreAsync(model, [model.Featurizer!.Featurize(Texts[1])]));

        Assert.Same(first, await Task.WhenAny(first, Task.Delay(800, TestContext.Current.CancellationToken)));
        Assert.Equal(1, batcher.Batches);
        Assert.Equal(2, batcher.Texts);
        model.Release();
    }

    [Fact]
    public async Task With_micro_batching_off_every_request_runs_alone()
    {
        await using var batcher = Batcher(maxTexts: 64, delayMs: 0, batching: false);
        var model = ToyModel.Load();

        await Task.WhenAll(Texts.Select(t => batcher.ScoreAsync(model, [model.Featurizer!.Featurize(t)])));

        Assert.Equal(Texts.Length, batcher.Batches);
        model.Release();
    }

    [Fact]
    public async Task Without_a_delay_a_lone_request_is_not_kept_waiting_and_concurrent_ones_are_coalesced_by_two_runners()
    {
        await using var batcher = new MicroBatcher(Options.Create(new ServingOptions { BatchRunners = 2 }), NullLogger<MicroBatcher>.Instance);
        var model = ToyModel.Load();

        var lone = batcher.ScoreAsync(model, [model.Featurizer!.Featurize(Texts[0])]);
        Assert.Same(lone, await Task.WhenAny(lone, Task.Delay(5000, TestContext.Current.CancellationToken)));
        var many = await Task.WhenAll(Enumerable.Range(0, 200).Select(i => batcher.ScoreAsync(model, [model.Featurizer!.Featurize(Texts[i % Texts.Length])])));

        Assert.All(many.Select((scores, i) => (scores, i)), p =>
            Assert.Equal(ToyModel.Linear.Predict(model.Featurizer!.Featurize(Texts[p.i % Texts.Length])), p.scores[0], (a, b) => Math.Abs(a - b) < 1e-5));
        Assert.Equal(201, batcher.Texts);
        Assert.True(batcher.Batches < 100, $"{batcher.Batches} batches for 201 texts: queued requests share batches");
        model.Release();
    }

    [Fact]
    public async Task Requests_on_two_versions_in_one_batch_are_each_scored_by_their_own()
    {
        await using var batcher = Batcher(maxTexts: 64, delayMs: 200);
        var a = ToyModel.Load();
        var b = ToyModel.Load();

        var answers = await Task.WhenAll(batcher.ScoreAsync(a, [a.Featurizer!.Featurize(Texts[0])]), batcher.ScoreAsync(b, [b.Featurizer!.Featurize(Texts[0])]));

        Assert.Equal(2, batcher.Batches);    // one ONNX call per model
        Assert.Equal(answers[0][0], answers[1][0]);
        a.Release();
        b.Release();
    }
}
