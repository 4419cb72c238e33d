using BirbalAI.Ml.Datasets;
using Hangfire;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace BirbalAI.Ml.Jobs;

/// <summary>Daily: deletes examples older than Ml:Datasets:RetentionDays that no registered version was trained on.</summary>
sealed class ApplyDatasetRetentionJob(Snapshots snapshots, ILogger<ApplyDatasetRetentionJob> logger)
{
    public async Task RunAsync(CancellationToken ct)
    {
        var deleted = await snapshots.ApplyRetentionAsync(ct);
        if (deleted > 0) logger.LogInformation("Dataset retention deleted {Count} examples", deleted);
    }
}

/// <summary>Registers the module's recurring jobs (idempotent: every replica may).</summary>
sealed class MlRecurringJobs(IRecurringJobManager jobs, Microsoft.Extensions.Options.IOptions<Training.TrainingOptions> training) : IHostedService
{
    public Task StartAsync(CancellationToken ct)
    {
        jobs.AddOrUpdate<ApplyDatasetRetentionJob>("ml.dataset-retention", j => j.RunAsync(CancellationToken.None), Cron.Daily());
        jobs.AddOrUpdate<RecoverTrainingJobsJob>("ml.training-recovery", j => j.RunAsync(CancellationToken.None), Cron.Minutely());
        jobs.AddOrUpdate<RecoverRescoringJob>("ml.rescoring-recovery", j => j.RunAsync(CancellationToken.None), Cron.Minutely());
        jobs.AddOrUpdate<AutoTrainJob>("ml.auto-train", j => j.RunAsync(CancellationToken.None), training.Value.AutoTrainCron);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken ct) => Task.CompletedTask;
}
