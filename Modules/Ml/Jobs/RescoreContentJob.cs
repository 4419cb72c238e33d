using BirbalAI.Contracts.Ml;
using BirbalAI.Ml.Policy;
using BirbalAI.Ml.Rescoring;
using BirbalAI.Ml.Serving;
using Hangfire;
using Microsoft.Extensions.Logging;

namespace BirbalAI.Ml.Jobs;

/// <summary>
/// Scores one partition of a re-scoring run: claims it, reads each of the run's sources from its checkpoint in batches of the
/// run's batch size, scores them through the moderator with the run's version (under the policy in force), stores the results
/// and the new checkpoint in one transaction, pauses (the throttle), and so on to the end. A job that dies resumes after its last
/// committed batch (<see cref="RescoringRuns.RecoverAsync"/>, or Hangfire after a graceful stop), so every item is scored once.
/// Hangfire's own retries are off. An impact preview reads only its window, stops at its share of the cap, and scores under its
/// draft's thresholds (the stored scores are compared under the policy in force).
/// </summary>
sealed class RescoreContentJob(RescoringRuns runs, RescoringSources sources, Moderator moderator, PolicyStore policies, ILogger<RescoreContentJob> logger)
{
    public static string Worker => $"{Environment.MachineName}:{Environment.ProcessId}";

    [AutomaticRetry(Attempts = 0)]
    public async Task RunAsync(Guid runId, int partition, CancellationToken ct)
    {
        if (await runs.ClaimAsync(runId, partition, Worker, ct) is not { } claimed) return;   // cancelled, done, or another worker's
        var run = (await runs.FindAsync(runId, ct))!;
        var (sourceIndex, cursor) = (claimed.SourceIndex, claimed.Cursor);
        var draft = run.DraftThresholds;
        var before = draft is null ? null : await policies.CurrentAsync(ct);
        var done = claimed.Scored + claimed.Skipped;
        DateTimeOffset? since = run.Since is { } s ? new DateTimeOffset(DateTime.SpecifyKind(s, DateTimeKind.Utc)) : null;
        try
        {
            while (sourceIndex < run.Sources.Length && !(run.PartitionCap is { } cap && done >= cap))
            {
                var source = run.Sources[sourceIndex];
                var limit = run.PartitionCap is { } left ? (int)Math.Min(run.BatchSize, left - done) : run.BatchSize;
                var page = await sources.PageAsync(source, cursor, limit, partition, run.Partitions, since, ct);
                if (page.Count == 0)
                {
                    if (!await runs.NextSourceAsync(runId, partition, Worker, ct)) return;   // taken over
                    (sourceIndex, cursor) = (sourceIndex + 1, null);
                    continue;
                }
                var (scored, skipped) = await ScoreAsync(page, run.VersionId, draft, ct);
                var (held, cancel) = await runs.CheckpointAsync(runId, partition, Worker, source, scored, skipped, page[^1].Id, ct, before);
                done += scored.Count + skipped;
                if (!held) return;
                if (cancel)
                {
                    await runs.FinishAsync(runId, partition, RescoringRuns.Cancelled, null, CancellationToken.None);
                    return;
                }
                cursor = page[^1].Id;
                if (run.PauseMs > 0) await Task.Delay(run.PauseMs, ct);
            }
            await runs.FinishAsync(runId, partition, RescoringRuns.Succeeded, null, CancellationToken.None);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            await runs.RequeueAsync(runId, partition);
            throw;   // Hangfire runs it again, from the checkpoint
        }
        catch (Exception e)
        {
            logger.LogError(e, "Re-scoring run {Id} partition {Partition} failed", runId, partition);
            await runs.FinishAsync(runId, partition, RescoringRuns.Failed, $"{e.GetType().Name}: {e.Message}", CancellationToken.None);
        }
    }

    /// <summary>A text that has grown past the moderator's limits since it was stored is skipped (counted), never scored in part.</summary>
    async Task<(List<RescoringRuns.Scored> Scored, int Skipped)> ScoreAsync(IReadOnlyList<ContentItem> page, Guid version,
        IReadOnlyDictionary<string, Thresholds>? thresholds, CancellationToken ct)
    {
        var pending = page.ToList();
        var skipped = 0;
        while (pending.Count > 0)
        {
            try
            {
                var verdicts = await moderator.ModerateAsync([.. pending.Select(i => i.Text)], version, thresholds, ct);
                return ([.. pending.Select((item, i) => new RescoringRuns.Scored(item, verdicts[i]))], skipped);
            }
            catch (TextTooLargeException e)
            {
                pending.RemoveAt(e.Index);
                skipped++;
            }
        }
        return ([], skipped);
    }
}

/// <summary>Every minute: re-scoring partitions whose worker died are queued again from their checkpoint, or failed (<see cref="RescoringRuns.RecoverAsync"/>).</summary>
sealed class RecoverRescoringJob(RescoringRuns runs, ILogger<RecoverRescoringJob> logger)
{
    public async Task RunAsync(CancellationToken ct)
    {
        foreach (var (runId, partition, status) in await runs.RecoverAsync(ct))
            logger.LogWarning("Re-scoring run {Id} partition {Partition} lost its worker: {Status}", runId, partition, status);
    }
}
