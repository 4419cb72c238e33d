using System.Globalization;
using System.Text.Json;
using BirbalAI.Contracts.Annotation;
using BirbalAI.Contracts.Chat;
using BirbalAI.Contracts.Documents;
using BirbalAI.Contracts.Identity;
using BirbalAI.Contracts.Ml;
using BirbalAI.Ml.Registry;
using BirbalAI.Platform.Messaging;
using Dapper;
using Hangfire;
using Microsoft.Extensions.Options;
using Npgsql;

namespace BirbalAI.Ml.Rescoring;

/// <summary>A row of ml.rescoring_runs, with what its partitions scored so far.</summary>
sealed class RescoringRun
{
    public Guid Id { get; init; }
    public int Number { get; init; }
    public DateTime CreatedAt { get; init; }
    public Guid? CreatedBy { get; init; }
    public string Trigger { get; init; } = "";
    public Guid VersionId { get; init; }
    public int VersionNumber { get; init; }
    public string[] Sources { get; init; } = [];
    public int Partitions { get; init; }
    public int BatchSize { get; init; }
    public int PauseMs { get; init; }
    public long Total { get; init; }
    public string Status { get; init; } = "";
    public bool CancelRequested { get; init; }
    public string? Error { get; init; }
    public DateTime? FinishedAt { get; init; }
    public DateTime? AppliedAt { get; init; }
    public Guid? AppliedBy { get; init; }
    public long Scored { get; init; }
    public long Skipped { get; init; }
    /// <summary>An impact preview: counts what would change, over content written since <see cref="Since"/>, at most <see cref="MaxItems"/>; never applied.</summary>
    public bool Preview { get; init; }
    public Guid? DraftId { get; init; }
    public string? DraftName { get; init; }
    /// <summary>The draft's thresholds when the preview started (JSON); null: the policy in force.</summary>
    public string? Thresholds { get; init; }
    public DateTime? Since { get; init; }
    public int? MaxItems { get; init; }
    /// <summary>An impact preview's items in its window when it started; past <see cref="MaxItems"/> it is capped.</summary>
    public long? InWindow { get; init; }
    public bool Capped => InWindow > MaxItems;

    public IReadOnlyDictionary<string, Policy.Thresholds>? DraftThresholds => Thresholds is null ? null
        : JsonSerializer.Deserialize<Dictionary<string, Policy.Thresholds>>(Thresholds, Policy.PolicyStore.Json);

    /// <summary>What one partition may score: its share of <see cref="MaxItems"/>, rounded up.</summary>
    public long? PartitionCap => MaxItems is { } max ? (max + Partitions - 1) / Partitions : null;

    public bool Active => Status is RescoringRuns.Queued or RescoringRuns.Running;
    public double Share => Total == 0 ? (Active ? 0 : 1) : Math.Clamp((double)(Scored + Skipped) / Total, 0, 1);
}

/// <summary>A row of ml.rescoring_partitions: one Hangfire job's share of a run and its checkpoint.</summary>
sealed class RescoringPartition
{
    public Guid RunId { get; init; }
    public int Partition { get; init; }
    public string Status { get; init; } = "";
    public int SourceIndex { get; init; }
    public Guid? Cursor { get; init; }
    public long Scored { get; init; }
    public long Skipped { get; init; }
    public int Batches { get; init; }
    public int Attempts { get; init; }
    public string? Worker { get; init; }
    public DateTime? HeartbeatAt { get; init; }
    public string? Error { get; init; }
}

/// <summary>How many items move from one overall action to another (<see cref="From"/> = <see cref="To"/>: unchanged).</summary>
sealed record Direction(string Source, string From, string To, long Count);

/// <summary>How many items see one category's action move (stored scores and new ones, both under the policy in force).</summary>
sealed record CategoryChange(string Category, string From, string To, long Count);

/// <summary>A changed item: its source and id (the owners keep the text), its status now, the actions.</summary>
sealed record ChangedItem(string Source, Guid ContentId, string OldStatus, string From, string To);

/// <summary>What applying a run would change: per direction and per category; how many approved items would be held.</summary>
sealed record RescoringSummary(IReadOnlyList<Direction> Directions, IReadOnlyList<CategoryChange> Categories, long WouldHold, IReadOnlyList<ChangedItem> Examples)
{
    public long Changed => Directions.Where(d => d.From != d.To).Sum(d => d.Count);
    public long Unchanged => Directions.Where(d => d.From == d.To).Sum(d => d.Count);
}

/// <summary>A stored item as the job scores it, from either owner's content source.</summary>
sealed record ContentItem(Guid Id, string Text, string Status, string Action, IReadOnlyDictionary<string, float> Scores, DateTimeOffset WrittenAt);

/// <summary>The owners' content sources (<see cref="IChatContentSource"/>, <see cref="IDocumentContentSource"/>) by source name.</summary>
sealed class RescoringSources(IChatContentSource chat, IDocumentContentSource documents)
{
    public static readonly IReadOnlyList<string> All = [ContentSources.ChatMessage, ContentSources.DocumentChunk];

    public async Task<IReadOnlyList<ContentItem>> PageAsync(string source, Guid? after, int limit, int partition, int partitions, DateTimeOffset? since, CancellationToken ct) => source switch
    {
        ContentSources.ChatMessage => [.. (await chat.MessagesAfterAsync(after, limit, partition, partitions, since, ct))
            .Select(m => new ContentItem(m.MessageId, m.Text, m.Status, m.Action, m.Scores, m.WrittenAt))],
        ContentSources.DocumentChunk => [.. (await documents.ChunksAfterAsync(after, limit, partition, partitions, since, ct))
            .Select(c => new ContentItem(c.ChunkId, c.Text, c.Status, c.Action, c.Scores, c.WrittenAt))],
        _ => throw new ArgumentOutOfRangeException(nameof(source), source, "not a content source"),
    };

    public Task<long> CountAsync(string source, DateTimeOffset? since, CancellationToken ct) => source switch
    {
        ContentSources.ChatMessage => chat.CountAsync(since, ct),
        ContentSources.DocumentChunk => documents.CountAsync(since, ct),
        _ => throw new ArgumentOutOfRangeException(nameof(source), source, "not a content source"),
    };
}

/// <summary>
/// Batch re-scoring runs: an Admin starts one (a registered version, the sources); its partitions run as Hangfire jobs
/// (<see cref="Jobs.RescoreContentJob"/>) that checkpoint after every batch; its summary says what would change; an Admin
/// applies it (audited), which publishes <see cref="VerdictsRevised"/> through the outbox for the owners to record and hold.
/// </summary>
sealed class RescoringRuns(NpgsqlDataSource db, IBackgroundJobClient hangfire, ModelRegistry registry, RescoringSources sources, IAuditLog audit,
    IOptions<RescoringOptions> options)
{
    public const string Queued = "queued", Running = "running", Succeeded = "succeeded", Failed = "failed", Cancelled = "cancelled";

    public sealed record Started(RescoringRun? Run, string? Error);

    /// <summary>An impact preview's terms: under <see cref="Draft"/>'s thresholds (null: the policy in force), over the last <see cref="Days"/> days.</summary>
    public sealed record PreviewTerms(Policy.PolicyDraft? Draft, int Days);

    /// <summary>
    /// Records the run and its partitions (queued) without handing them to Hangfire; <see cref="StartAsync"/> does both. With
    /// <paramref name="preview"/>, an impact preview: content written in its window, at most Ml:Rescoring:PreviewMaxItems items.
    /// </summary>
    public async Task<Started> CreateAsync(string version, IReadOnlyList<string> chosen, string trigger, Guid? by, CancellationToken ct, PreviewTerms? preview = null)
    {
        var o = options.Value;
        if (preview is { Days: var days } && (days < 1 || days > o.PreviewMaxDays))
            return new(null, $"days: from 1 to {o.PreviewMaxDays} (Ml:Rescoring:PreviewMaxDays), not {days}");
        if (preview?.Draft is { Published: true } published)
            return new(null, $"draft \"{published.Name}\" was published as policy v{published.PublishedAs}: preview the policy in force instead");
        DateTimeOffset? since = preview is null ? null : DateTimeOffset.UtcNow.AddDays(-preview.Days);
        if (await registry.FindAsync(version.Trim(), ct) is not { } found) return new(null, $"no model version \"{version}\" (give v3, 3 or its id)");
        var picked = chosen.Select(s => s.Trim()).Where(s => s != "").Distinct().ToList();
        if (picked.Count == 0) return new(null, $"sources: choose at least one of {string.Join(", ", RescoringSources.All)}");
        if (picked.FirstOrDefault(s => !RescoringSources.All.Contains(s)) is { } unknown)
            return new(null, $"no content source \"{unknown}\" (the sources are {string.Join(", ", RescoringSources.All)})");
        picked = [.. RescoringSources.All.Where(picked.Contains)];
        long total = 0;
        foreach (var source in picked) total += await sources.CountAsync(source, since, ct);
        var inWindow = total;
        if (preview is not null) total = Math.Min(total, o.PreviewMaxItems);
        var id = Guid.CreateVersion7();
        await using (var connection = await db.OpenConnectionAsync(ct))
        await using (var tx = await connection.BeginTransactionAsync(ct))
        {
            await connection.ExecuteAsync(new CommandDefinition("select pg_advisory_xact_lock(hashtext('ml.rescoring_runs'))", transaction: tx, cancellationToken: ct));
            var active = await connection.ExecuteScalarAsync<int>(new CommandDefinition(
                "select count(*) from ml.rescoring_runs where status in ('queued', 'running')", transaction: tx, cancellationToken: ct));
            if (active >= o.MaxActiveRuns)
                return new(null, $"{active} re-scoring run(s) queued or running; at most {o.MaxActiveRuns} at once (Ml:Rescoring:MaxActiveRuns). Wait for one or cancel it.");
            await connection.ExecuteAsync(new CommandDefinition(InsertSql, new
            {
                id, by, trigger, VersionId = found.Id, Sources = picked.ToArray(), o.Partitions, o.BatchSize, o.PauseMs, total,
                Preview = preview is not null, DraftId = preview?.Draft?.Id,
                Thresholds = preview?.Draft is { } draft ? JsonSerializer.Serialize(draft.Thresholds, Policy.PolicyStore.Json) : null,
                Since = since?.UtcDateTime, MaxItems = preview is null ? (int?)null : o.PreviewMaxItems, InWindow = preview is null ? (long?)null : inWindow,
            }, tx, cancellationToken: ct));
            await tx.CommitAsync(ct);
        }
        return new(await FindAsync(id, ct), null);
    }

    public async Task<Started> StartAsync(string version, IReadOnlyList<string> chosen, string trigger, Guid? by, CancellationToken ct, PreviewTerms? preview = null)
    {
        var created = await CreateAsync(version, chosen, trigger, by, ct, preview);
        if (created.Run is { } run)
            for (var p = 0; p < run.Partitions; p++) Enqueue(run.Id, p);
        return created;
    }

    /// <summary>One partition to Hangfire; whichever worker takes it first claims it (<see cref="ClaimAsync"/>).</summary>
    void Enqueue(Guid runId, int partition) => hangfire.Enqueue<Jobs.RescoreContentJob>(j => j.RunAsync(runId, partition, CancellationToken.None));

    public async Task<RescoringRun?> FindAsync(Guid id, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return await connection.QuerySingleOrDefaultAsync<RescoringRun>(new CommandDefinition($"{SelectSql} where r.id = @id", new { id }, cancellationToken: ct));
    }

    public async Task<RescoringRun?> FindAsync(int number, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return await connection.QuerySingleOrDefaultAsync<RescoringRun>(new CommandDefinition($"{SelectSql} where r.number = @number", new { number }, cancellationToken: ct));
    }

    public async Task<IReadOnlyList<RescoringRun>> ListAsync(int limit, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<RescoringRun>(new CommandDefinition($"{SelectSql} order by r.number desc limit @limit", new { limit }, cancellationToken: ct))).AsList();
    }

    public async Task<IReadOnlyList<RescoringPartition>> PartitionsAsync(Guid runId, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<RescoringPartition>(new CommandDefinition(
            "select * from ml.rescoring_partitions where run_id = @runId order by partition", new { runId }, cancellationToken: ct))).AsList();
    }

    public async Task<RescoringSummary> SummaryAsync(Guid runId, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var directions = (await connection.QueryAsync<Direction>(new CommandDefinition(DirectionsSql, new { runId }, cancellationToken: ct))).AsList();
        var categories = (await connection.QueryAsync<CategoryChange>(new CommandDefinition(CategoriesSql, new { runId }, cancellationToken: ct))).AsList();
        var wouldHold = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            "select count(*) from ml.rescoring_items where run_id = @runId and old_status = 'approved' and new_action in ('review', 'reject')", new { runId }, cancellationToken: ct));
        var examples = (await connection.QueryAsync<ChangedItem>(new CommandDefinition(ExamplesSql,
            new { runId, Limit = options.Value.ListedChanges }, cancellationToken: ct))).AsList();
        return new RescoringSummary(directions, categories, wouldHold, examples);
    }

    /// <summary>Cancels a queued run at once and asks a running one to stop (its jobs do after their current batch); false when it had ended, null when there is none.</summary>
    public async Task<bool?> CancelAsync(Guid id, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var exists = await connection.ExecuteScalarAsync<bool>(new CommandDefinition("select exists (select 1 from ml.rescoring_runs where id = @id)", new { id }, tx, cancellationToken: ct));
        if (!exists) return null;
        var asked = await connection.ExecuteAsync(new CommandDefinition(
            "update ml.rescoring_runs set cancel_requested = true where id = @id and status in ('queued', 'running')", new { id }, tx, cancellationToken: ct));
        if (asked == 0) return false;
        await connection.ExecuteAsync(new CommandDefinition(
            "update ml.rescoring_partitions set status = 'cancelled', finished_at = now() where run_id = @id and status = 'queued'", new { id }, tx, cancellationToken: ct));
        await SettleAsync(connection, tx, id, ct);
        await tx.CommitAsync(ct);
        return true;
    }

    public sealed record Applied(int Events, long Verdicts, string? Error, int Status = 200);

    /// <summary>
    /// Publishes the run's new verdicts (every scored item, at most Ml:Rescoring:MaxVerdictsPerEvent per event, per source) through
    /// the outbox, once: audited as ml.rescoring-applied in the same transaction. Only a run that succeeded.
    /// </summary>
    public async Task<Applied> ApplyAsync(Guid id, Guid? by, CancellationToken ct)
    {
        var max = options.Value.MaxVerdictsPerEvent;
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var run = await connection.QuerySingleOrDefaultAsync<RescoringRun>(new CommandDefinition(
            $"{SelectSql} where r.id = @id for update of r", new { id }, tx, cancellationToken: ct));
        if (run is null) return new(0, 0, "No such re-scoring run.", 404);
        if (run.Preview)
            return new(0, 0, $"Run #{run.Number} is an impact preview: it only counts what would change and is never applied. Publish the draft policy, or promote the version, to put them in force.", 409);
        if (run.AppliedAt is not null) return new(0, 0, $"Run #{run.Number} was applied already; its verdicts went out once.", 409);
        if (run.Status != Succeeded) return new(0, 0, $"Run #{run.Number} is {run.Status}: only a run that finished can be applied.", 409);
        var (events, verdicts) = (0, 0L);
        foreach (var source in run.Sources)
        {
            Guid? after = null;
            while (true)
            {
                var page = (await connection.QueryAsync<ItemRow>(new CommandDefinition(ItemsSql, new { id, source, after, Limit = max }, tx, cancellationToken: ct))).AsList();
                if (page.Count == 0) break;
                await Outbox.AddAsync(connection, tx, new VerdictsRevised(run.Id, source, run.VersionId, run.VersionNumber, [.. page.Select(i => new RevisedVerdict(i.ContentId, i.NewAction,
                    JsonSerializer.Deserialize<Dictionary<string, float>>(i.Scores)!, JsonSerializer.Deserialize<string[]>(i.Flagged)!, i.PolicyVersion,
                    new DateTimeOffset(DateTime.SpecifyKind(i.WrittenAt, DateTimeKind.Utc))))], DateTimeOffset.UtcNow), ct);
                (events, verdicts, after) = (events + 1, verdicts + page.Count, page[^1].ContentId);
                if (page.Count < max) break;
            }
        }
        await connection.ExecuteAsync(new CommandDefinition("update ml.rescoring_runs set applied_at = now(), applied_by = @by where id = @id", new { id, by }, tx, cancellationToken: ct));
        await audit.RecordAsync(new AuditEntry("ml.rescoring-applied", by, $"re-scoring run #{run.Number}", new Dictionary<string, string?>
        {
            ["version"] = $"v{run.VersionNumber}", ["sources"] = string.Join(", ", run.Sources),
            ["verdicts"] = verdicts.ToString(CultureInfo.InvariantCulture), ["events"] = events.ToString(CultureInfo.InvariantCulture),
        }), tx, ct);
        await tx.CommitAsync(ct);
        return new(events, verdicts, null);
    }

    /// <summary>Takes a partition for this run of its job (queued → running); null when it is not queued (cancelled, done, or running elsewhere).</summary>
    public async Task<RescoringPartition?> ClaimAsync(Guid runId, int partition, string worker, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var claimed = await connection.QuerySingleOrDefaultAsync<RescoringPartition>(new CommandDefinition(ClaimSql, new { runId, partition, worker }, tx, cancellationToken: ct));
        if (claimed is null) return null;
        await connection.ExecuteAsync(new CommandDefinition("update ml.rescoring_runs set status = 'running' where id = @runId and status = 'queued'", new { runId }, tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
        return claimed;
    }

    /// <summary>One scored item, ready to store.</summary>
    public sealed record Scored(ContentItem Item, ModerationVerdict Verdict);

    /// <summary>
    /// Stores a batch's results and moves the checkpoint past <paramref name="cursor"/> in one transaction. False when this worker
    /// no longer holds the partition (then nothing is stored). <paramref name="cancel"/>: the run's cancel was requested.
    /// </summary>
    public async Task<(bool Held, bool Cancel)> CheckpointAsync(Guid runId, int partition, string worker, string source, IReadOnlyList<Scored> scored, int skipped, Guid cursor,
        CancellationToken ct, Policy.ModerationPolicy? before = null)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var cancel = await connection.QuerySingleOrDefaultAsync<bool?>(new CommandDefinition(CheckpointSql,
            new { runId, partition, worker, cursor, Scored = (long)scored.Count, Skipped = (long)skipped }, tx, cancellationToken: ct));
        if (cancel is null) return (false, false);
        if (scored.Count > 0)
            await connection.ExecuteAsync(new CommandDefinition(InsertItemsSql, new
            {
                runId, source, partition,
                Ids = scored.Select(s => s.Item.Id).ToArray(),
                OldStatuses = scored.Select(s => s.Item.Status).ToArray(),
                OldActions = scored.Select(s => s.Item.Action).ToArray(),
                NewActions = scored.Select(s => s.Verdict.Action.Name()).ToArray(),
                Changes = scored.Select(s => JsonSerializer.Serialize(Changes(s.Item.Scores, s.Verdict, before))).ToArray(),
                Scores = scored.Select(s => JsonSerializer.Serialize(s.Verdict.Scores)).ToArray(),
                Flagged = scored.Select(s => JsonSerializer.Serialize(Flagged(s.Verdict))).ToArray(),
                WrittenAt = scored.Select(s => s.Item.WrittenAt.UtcDateTime).ToArray(),
                PolicyVersions = scored.Select(s => s.Verdict.PolicyVersion).ToArray(),
            }, tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
        return (true, cancel.Value);
    }

    /// <summary>The partition read its source to the end: on to the next one, from its start.</summary>
    public async Task<bool> NextSourceAsync(Guid runId, int partition, string worker, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return await connection.ExecuteAsync(new CommandDefinition("""
            update ml.rescoring_partitions set source_index = source_index + 1, cursor = null, heartbeat_at = now()
            where run_id = @runId and partition = @partition and status = 'running' and worker = @worker
            """, new { runId, partition, worker }, cancellationToken: ct)) > 0;
    }

    /// <summary>The partition ended (succeeded, failed or cancelled); the run follows once none of its partitions is queued or running.</summary>
    public async Task FinishAsync(Guid runId, int partition, string status, string? error, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition("""
            update ml.rescoring_partitions set status = @status, error = @error, finished_at = now(), heartbeat_at = now()
            where run_id = @runId and partition = @partition and status = 'running'
            """, new { runId, partition, status, error }, tx, cancellationToken: ct));
        if (error is not null)
            await connection.ExecuteAsync(new CommandDefinition("update ml.rescoring_runs set error = coalesce(error, @error) where id = @runId",
                new { runId, Error = $"partition {partition}: {error}" }, tx, cancellationToken: ct));
        await SettleAsync(connection, tx, runId, ct);
        await tx.CommitAsync(ct);
    }

    /// <summary>The host is stopping mid-run: the partition goes back to the queue with its checkpoint (Hangfire runs it again).</summary>
    public async Task RequeueAsync(Guid runId, int partition)
    {
        await using var connection = await db.OpenConnectionAsync();
        await connection.ExecuteAsync(new CommandDefinition(
            "update ml.rescoring_partitions set status = 'queued', worker = null where run_id = @runId and partition = @partition and status = 'running'",
            new { runId, partition }));
    }

    /// <summary>
    /// Running partitions without a batch for Ml:Rescoring:HeartbeatTimeoutSeconds: their worker died. Each is queued again from its
    /// checkpoint (and handed to Hangfire) while it has runs left, else failed with its run. Returns what it changed.
    /// </summary>
    public async Task<IReadOnlyList<(Guid RunId, int Partition, string Status)>> RecoverAsync(CancellationToken ct)
    {
        var o = options.Value;
        List<(Guid RunId, int Partition, string Status)> changed;
        await using (var connection = await db.OpenConnectionAsync(ct))
        await using (var tx = await connection.BeginTransactionAsync(ct))
        {
            changed = [.. await connection.QueryAsync<(Guid, int, string)>(new CommandDefinition(RecoverSql,
                new { Timeout = (double)o.HeartbeatTimeoutSeconds, o.MaxAttempts }, tx, cancellationToken: ct))];
            foreach (var runId in changed.Where(c => c.Status != Queued).Select(c => c.RunId).Distinct())
                await SettleAsync(connection, tx, runId, ct);
            await tx.CommitAsync(ct);
        }
        foreach (var (runId, partition, _) in changed.Where(c => c.Status == Queued)) Enqueue(runId, partition);
        return changed;
    }

    static Task SettleAsync(NpgsqlConnection connection, NpgsqlTransaction tx, Guid runId, CancellationToken ct) =>
        connection.ExecuteAsync(new CommandDefinition(SettleSql, new { runId }, tx, cancellationToken: ct));

    /// <summary>
    /// The categories whose action moves: the stored scores and the new ones, both under the thresholds of the verdict's policy; with
    /// <paramref name="before"/> (an impact preview of a draft: the policy in force), the stored scores under its thresholds instead.
    /// </summary>
    public static Dictionary<string, string> Changes(IReadOnlyDictionary<string, float> old, ModerationVerdict verdict, Policy.ModerationPolicy? before = null)
    {
        var changes = new Dictionary<string, string>();
        foreach (var c in verdict.Categories)
        {
            var thresholds = before?.For(c.Category) ?? new Policy.Thresholds(c.ReviewThreshold, c.RejectThreshold);
            var was = Policy.ModerationPolicy.Decide(old.GetValueOrDefault(c.Category), thresholds);
            if (was != c.Action) changes[c.Category] = $"{was.Name()}>{c.Action.Name()}";
        }
        return changes;
    }

    /// <summary>What the owners store as "flagged": the categories not approved, then the watched words that block or hold.</summary>
    public static string[] Flagged(ModerationVerdict verdict) =>
        [.. verdict.Categories.Where(c => c.Action != ModerationAction.Approve).Select(c => c.Category)
            .Concat(verdict.Matches.Where(m => m.Action is "block" or "require-approval").Select(m => m.Explanation)).Distinct()];

    sealed record ItemRow(Guid ContentId, string NewAction, string Scores, string Flagged, int PolicyVersion, DateTime WrittenAt);

    const string InsertSql = """
        insert into ml.rescoring_runs (id, number, created_by, trigger, version_id, sources, partitions, batch_size, pause_ms, total, preview, draft_id, thresholds, since, max_items, in_window)
        values (@Id, (select coalesce(max(number), 0) + 1 from ml.rescoring_runs), @By, @Trigger, @VersionId, @Sources, @Partitions, @BatchSize, @PauseMs, @Total,
                @Preview, @DraftId, @Thresholds::jsonb, @Since, @MaxItems, @InWindow);
        insert into ml.rescoring_partitions (run_id, partition) select @Id, p from generate_series(0, @Partitions - 1) p;
        """;

    const string SelectSql = """
        select r.id, r.number, r.created_at, r.created_by, r.trigger, r.version_id, v.number as version_number, r.sources, r.partitions, r.batch_size, r.pause_ms,
               r.total, r.status, r.cancel_requested, r.error, r.finished_at, r.applied_at, r.applied_by,
               r.preview, r.draft_id, (select d.name from ml.policy_drafts d where d.id = r.draft_id) as draft_name, r.thresholds::text as thresholds, r.since, r.max_items, r.in_window,
               coalesce((select sum(p.scored) from ml.rescoring_partitions p where p.run_id = r.id), 0)::bigint as scored,
               coalesce((select sum(p.skipped) from ml.rescoring_partitions p where p.run_id = r.id), 0)::bigint as skipped
        from ml.rescoring_runs r join ml.model_versions v on v.id = r.version_id
        """;

    const string DirectionsSql = """
        select source, old_action as "from", new_action as "to", count(*) as count from ml.rescoring_items where run_id = @RunId
        group by source, old_action, new_action order by source, old_action, new_action
        """;

    const string CategoriesSql = """
        select c.key as category, split_part(c.value, '>', 1) as "from", split_part(c.value, '>', 2) as "to", count(*) as count
        from ml.rescoring_items i, jsonb_each_text(i.changes) c where i.run_id = @RunId
        group by 1, 2, 3 order by 1, 2, 3
        """;

    const string ExamplesSql = """
        select source, content_id, old_status, old_action as "from", new_action as "to" from ml.rescoring_items
        where run_id = @RunId and old_action <> new_action order by source, content_id limit @Limit
        """;

    const string ItemsSql = """
        select content_id, new_action, scores::text as scores, flagged::text as flagged, policy_version, written_at from ml.rescoring_items
        where run_id = @Id and source = @Source and (@After::uuid is null or content_id > @After) order by content_id limit @Limit
        """;

    const string ClaimSql = """
        update ml.rescoring_partitions p
           set status = 'running', attempts = attempts + 1, worker = @Worker, started_at = coalesce(started_at, now()), heartbeat_at = now()
         where p.run_id = @RunId and p.partition = @Partition and p.status = 'queued'
           and exists (select 1 from ml.rescoring_runs r where r.id = p.run_id and not r.cancel_requested)
        returning p.*
        """;

    // Only while this worker holds the partition: a recovered partition's new worker owns the checkpoint.
    const string CheckpointSql = """
        update ml.rescoring_partitions p
           set cursor = @Cursor, scored = scored + @Scored, skipped = skipped + @Skipped, batches = batches + 1, heartbeat_at = now()
         where p.run_id = @RunId and p.partition = @Partition and p.status = 'running' and p.worker = @Worker
        returning (select r.cancel_requested from ml.rescoring_runs r where r.id = p.run_id)
        """;

    const string InsertItemsSql = """
        insert into ml.rescoring_items (run_id, source, content_id, partition, old_status, old_action, new_action, changes, scores, flagged, written_at, policy_version)
        select @RunId, @Source, i.id, @Partition, i.old_status, i.old_action, i.new_action, i.changes::jsonb, i.scores::jsonb, i.flagged::jsonb, i.written_at, i.policy_version
        from unnest(@Ids, @OldStatuses, @OldActions, @NewActions, @Changes, @Scores, @Flagged, @WrittenAt, @PolicyVersions)
             as i (id, old_status, old_action, new_action, changes, scores, flagged, written_at, policy_version)
        """;

    const string SettleSql = """
        update ml.rescoring_runs r set status = s.status, finished_at = now()
        from (select case when count(*) filter (where status in ('queued', 'running')) > 0 then null
                          when count(*) filter (where status = 'failed') > 0 then 'failed'
                          when count(*) filter (where status = 'cancelled') > 0 then 'cancelled'
                          else 'succeeded' end as status
              from ml.rescoring_partitions where run_id = @RunId) s
        where r.id = @RunId and s.status is not null and r.status in ('queued', 'running')
        """;

    // A partition of a run whose cancel was requested is cancelled rather than queued again (its claim would refuse it).
    const string RecoverSql = """
        update ml.rescoring_partitions p
           set status = case when r.cancel_requested then 'cancelled' when p.attempts < @MaxAttempts then 'queued' else 'failed' end,
               error = case when r.cancel_requested or p.attempts < @MaxAttempts then null
                            else 'its worker (' || coalesce(p.worker, '?') || ') stopped: no batch for ' || @Timeout || ' s, after ' || p.attempts || ' run(s)' end,
               finished_at = case when r.cancel_requested or p.attempts >= @MaxAttempts then now() end,
               worker = null
          from ml.rescoring_runs r
         where r.id = p.run_id and p.status = 'running' and p.heartbeat_at < now() - make_interval(secs => @Timeout)
        returning p.run_id, p.partition, p.status
        """;
}
