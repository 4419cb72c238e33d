using BirbalAI.Contracts.Ml;
using BirbalAI.Ml.ActiveLearning;
using BirbalAI.Ml.Policy;
using BirbalAI.Ml.Registry;
using BirbalAI.Ml.Rescoring;
using BirbalAI.Ml.Serving;
using BirbalAI.Platform.Messaging;
using Dapper;
using Hangfire;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace BirbalAI.Ml.Jobs;

/// <summary>
/// Active learning, queued when a training job has registered a version: reads the stored content of the last
/// Ml:ActiveLearning:Days (at most Ml:ActiveLearning:CandidateLimit items, split between the sources) that nobody has labelled,
/// scores it with the new version, chooses at most Ml:ActiveLearning:Budget items (<see cref="Selection"/>) and publishes them as
/// <see cref="TasksProposed"/> through the outbox for Annotation to turn into tasks (once per item, so a retry adds none).
/// </summary>
sealed class ProposeTasksJob(RescoringSources sources, Moderator moderator, PolicyStore policies, ModelRegistry registry, NpgsqlDataSource db,
    IOptions<ActiveLearningOptions> options, ILogger<ProposeTasksJob> logger)
{
    const int Batch = 64;

    [AutomaticRetry(Attempts = 2)]
    public async Task RunAsync(Guid versionId, CancellationToken ct)
    {
        var o = options.Value;
        if (!o.Enabled || o.Budget == 0) return;
        if (await registry.FindAsync(versionId.ToString(), ct) is not { } version) return;   // gone since
        var since = DateTimeOffset.UtcNow.AddDays(-o.Days);
        var candidates = new List<Candidate>();
        var perSource = Math.Max(1, o.CandidateLimit / RescoringSources.All.Count);
        foreach (var source in RescoringSources.All)
        {
            Guid? after = null;
            var read = 0;
            while (read < perSource)
            {
                var page = await sources.PageAsync(source, after, Math.Min(Batch, perSource - read), 0, 1, since, ct);
                if (page.Count == 0) break;
                (read, after) = (read + page.Count, page[^1].Id);
                var unlabelled = await UnlabelledAsync(source, page, ct);
                candidates.AddRange(await ScoreAsync(source, unlabelled, versionId, ct));
            }
        }
        var policy = await policies.CurrentAsync(ct);
        var chosen = Selection.Choose(candidates, policy.For, o.Budget, o.NearDuplicateSimilarity);
        logger.LogInformation("Active learning for v{Version}: {Chosen} of {Candidates} unlabelled item(s) proposed", version.Number, chosen.Count, candidates.Count);
        if (chosen.Count == 0) return;
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        await Outbox.AddAsync(connection, tx, new TasksProposed(version.Id, version.Number,
            [.. chosen.Select(c => new ProposedTask(c.Item.Source, c.Item.ContentId, c.Item.Text, c.Item.Language, c.Item.Scores, c.Category, c.Score, c.Threshold))],
            DateTimeOffset.UtcNow), ct);
        await tx.CommitAsync(ct);
    }

    async Task<IReadOnlyList<ContentItem>> UnlabelledAsync(string source, IReadOnlyList<ContentItem> page, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var labelled = (await connection.QueryAsync<string>(new CommandDefinition(
            "select content_id from ml.examples where source = @source and content_id = any(@Ids)",
            new { source, Ids = page.Select(i => i.Id.ToString()).ToArray() }, cancellationToken: ct))).ToHashSet();
        return [.. page.Where(i => !labelled.Contains(i.Id.ToString()))];
    }

    /// <summary>A text past the moderator's limits is left out, never scored in part.</summary>
    async Task<IReadOnlyList<Candidate>> ScoreAsync(string source, IReadOnlyList<ContentItem> items, Guid versionId, CancellationToken ct)
    {
        var pending = items.ToList();
        while (pending.Count > 0)
        {
            try
            {
                var verdicts = await moderator.ModerateAsync([.. pending.Select(i => i.Text)], versionId, ct);
                return [.. pending.Select((item, k) => new Candidate(source, item.Id, item.Text, verdicts[k].Language,
                    verdicts[k].Scores))];
            }
            catch (TextTooLargeException e)
            {
                pending.RemoveAt(e.Index);
            }
        }
        return [];
    }
}
