using System.Collections.Concurrent;
using System.Globalization;
using BirbalAI.Ml.Datasets;
using BirbalAI.Ml.Evaluation;
using BirbalAI.Ml.Registry;
using BirbalAI.Ml.Text;
using BirbalAI.Ml.Training;
using Hangfire;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace BirbalAI.Ml.Jobs;

/// <summary>
/// Runs one training job: claims it, trains on the snapshot's train split (thresholds tuned and the loss followed on its
/// validation split), evaluates on its test split, registers the version. A heartbeat writes progress and log lines and reads
/// cancellation. Hangfire's own retries are off: a dead worker's job is recovered by <see cref="RecoverTrainingJobsJob"/>.
/// </summary>
sealed class TrainModelJob(TrainingJobs jobs, Snapshots snapshots, ModelRegistry registry, LanguageDetection languages,
    IBackgroundJobClient hangfire, IOptions<TrainingOptions> options, ILogger<TrainModelJob> logger)
{
    public static string Worker => $"{Environment.MachineName}:{Environment.ProcessId}";

    [AutomaticRetry(Attempts = 0)]
    public async Task RunAsync(Guid jobId, CancellationToken ct)
    {
        if (await jobs.ClaimAsync(jobId, Worker, ct) is not { } job) return;   // cancelled, finished, or another worker's
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var lines = new ConcurrentQueue<string>();
        TrainingProgress? latest = null;
        var cancelRequested = false;
        var heartbeat = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(options.Value.HeartbeatSeconds), stop.Token);
                    if (await jobs.HeartbeatAsync(jobId, latest, Drain(lines), CancellationToken.None))
                    {
                        cancelRequested = true;
                        stop.Cancel();
                    }
                }
                catch (OperationCanceledException) { return; }
                catch (Exception e) { logger.LogWarning(e, "Heartbeat of training job {Id} failed", jobId); }
            }
        }, CancellationToken.None);
        try
        {
            var snapshot = (await snapshots.FindAsync(job.SnapshotId.ToString(), stop.Token))!;
            var rows = await snapshots.RowsAsync(snapshot, stop.Token);
            List<Data.LabelledText> Split(string split) => [.. rows.Where(r => r.Split == split).Select(r => r.ToLabelled())];
            var (train, validation, test) = (Split(DatasetSplit.Train), Split(DatasetSplit.Validation), Split(DatasetSplit.Test));
            lines.Enqueue($"snapshot {snapshot.Name}: train {train.Count}, validation {validation.Count}, test {test.Count}");
            var parameters = job.ParameterValues;
            var source = $"training job #{job.Number} on snapshot {snapshot.Name}";
            var result = await Task.Run(() => ModelTraining.Train(train, Categories.Default, parameters.Featurizer, parameters.Training,
                validationFraction: 0, test, languages, source, stop.Token, validation, p =>
                {
                    latest = p;
                    lines.Enqueue(FormattableString.Invariant($"epoch {p.Epoch}/{p.Epochs}{(p.Loss is { } loss ? $", validation loss {loss:0.0000}" : "")}, {p.Seconds:0.0} s"));
                }), stop.Token);
            TestReport? report = null;
            if (test.Count > 0)
            {
                var scores = ModelTraining.Scores(result.Model, test);
                report = TestReport.Build(Categories.Default, scores, [.. test.Select(r => ModelTraining.Labels(r, Categories.Default))], result.Model.Thresholds,
                    [.. test.Select(r => r.Language ?? "und")]);
            }
            var version = await registry.RegisterAsync(new ModelPackage(result.Card with { DataHash = snapshot.BlobHash, Source = source }, result.Onnx), CancellationToken.None);
            stop.Cancel();
            await jobs.HeartbeatAsync(jobId, latest, Drain(lines), CancellationToken.None);
            await jobs.FinishAsync(jobId, TrainingJobs.Succeeded, null, version.Id, report, FormattableString.Invariant(
                $"registered v{version.Number}: {result.Card.Report.EpochsRun} epochs in {result.Card.Report.Seconds:0.0} s{(result.Card.Evaluation is { } e ? $", test macro-F1 {e.MacroF1:0.000}" : "")}"),
                CancellationToken.None);
            // Active learning: what the new version is least sure about goes to people (a job of its own: the training stands either way).
            hangfire.Enqueue<ProposeTasksJob>(j => j.RunAsync(version.Id, CancellationToken.None));
        }
        catch (OperationCanceledException) when (cancelRequested)
        {
            await jobs.FinishAsync(jobId, TrainingJobs.Cancelled, null, null, null, "cancelled", CancellationToken.None);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            await jobs.RequeueAsync(jobId, $"worker {Worker} is stopping: queued again");
            throw;   // Hangfire runs it again
        }
        catch (Exception e)
        {
            logger.LogError(e, "Training job {Id} failed", jobId);
            await jobs.FinishAsync(jobId, TrainingJobs.Failed, $"{e.GetType().Name}: {e.Message}", null, null, $"failed: {e.Message}", CancellationToken.None);
        }
        finally
        {
            stop.Cancel();
            await heartbeat;
        }
    }

    static List<string> Drain(ConcurrentQueue<string> lines)
    {
        var drained = new List<string>();
        while (lines.TryDequeue(out var line)) drained.Add(line);
        return drained;
    }
}

/// <summary>Every minute: jobs whose worker died are queued again or failed (<see cref="TrainingJobs.RecoverAsync"/>).</summary>
sealed class RecoverTrainingJobsJob(TrainingJobs jobs, ILogger<RecoverTrainingJobsJob> logger)
{
    public async Task RunAsync(CancellationToken ct)
    {
        foreach (var (id, status) in await jobs.RecoverAsync(ct))
            logger.LogWarning("Training job {Id} lost its worker: {Status}", id, status);
    }
}

/// <summary>
/// On Ml:Training:AutoTrainCron: when at least Ml:Training:AutoTrainNewLabels new labelled examples arrived since the last
/// scheduled job, takes a snapshot and starts an n-gram job with the default hyperparameters.
/// </summary>
sealed class AutoTrainJob(TrainingJobs jobs, Snapshots snapshots, IOptions<TrainingOptions> options, ILogger<AutoTrainJob> logger)
{
    public async Task RunAsync(CancellationToken ct)
    {
        var threshold = options.Value.AutoTrainNewLabels;
        if (threshold == 0) return;
        var fresh = await jobs.NewLabelsSinceLastScheduledAsync(ct);
        if (fresh < threshold) return;
        var snapshot = (await snapshots.TakeAsync(null, ct)).Snapshot;
        var started = await jobs.StartAsync(snapshot.Id.ToString(), ModelKinds.Ngram, new TrainingParameters(), "schedule", null, snapshots, ct);
        if (started.Error is { } error) logger.LogWarning("Scheduled training did not start: {Error}", error);
        else logger.LogInformation("{Fresh} new labels: scheduled training job #{Number} on {Snapshot}", fresh.ToString(CultureInfo.InvariantCulture), started.Job!.Number, snapshot.Name);
    }
}
