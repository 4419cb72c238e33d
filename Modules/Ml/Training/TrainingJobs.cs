using System.Globalization;
using System.Text.Json;
using BirbalAI.Ml.Datasets;
using BirbalAI.Ml.Evaluation;
using BirbalAI.Ml.Features;
using Dapper;
using Hangfire;
using Microsoft.Extensions.Options;
using Npgsql;

namespace BirbalAI.Ml.Training;

/// <summary>A training job's hyperparameters, with the defaults a form starts from (those of `ml train`).</summary>
sealed record TrainingParameters(int Epochs = 25, int Dim = 32, float LearningRate = 0.2f, int Buckets = 200_000, int MinN = 2, int MaxN = 5,
    int WordNgrams = 2, int Seed = 1, bool EarlyStopping = false, int Threads = 1)
{
    public FeaturizerSettings Featurizer => new(MinN, MaxN, WordNgrams, Buckets);
    public TrainingSettings Training => new(Dim, Epochs, LearningRate, Threads, Seed, EarlyStopping: EarlyStopping);

    /// <summary>Null when every value is in range; else what is wrong, naming the setting.</summary>
    public string? Check()
    {
        try
        {
            Featurizer.Validate();
            Training.Validate();
            if (Threads > 16) throw new ArgumentException($"threads: 1 to 16, not {Threads}");
            return null;
        }
        catch (ArgumentException e) { return e.Message; }
    }
}

/// <summary>A row of ml.training_jobs.</summary>
sealed class TrainingJob
{
    public Guid Id { get; init; }
    public int Number { get; init; }
    public DateTime CreatedAt { get; init; }
    public Guid? CreatedBy { get; init; }
    public string Trigger { get; init; } = "";
    public Guid SnapshotId { get; init; }
    public int SnapshotNumber { get; init; }
    public string Kind { get; init; } = "";
    public string Parameters { get; init; } = "{}";
    public string Status { get; init; } = "";
    public int Attempts { get; init; }
    public string? Worker { get; init; }
    public int? Epoch { get; init; }
    public int? Epochs { get; init; }
    public double? Loss { get; init; }
    public double? EtaSeconds { get; init; }
    public DateTime? StartedAt { get; init; }
    public DateTime? HeartbeatAt { get; init; }
    public DateTime? FinishedAt { get; init; }
    public bool CancelRequested { get; init; }
    public string? Error { get; init; }
    public Guid? VersionId { get; init; }
    public int? VersionNumber { get; init; }
    public string Log { get; init; } = "";

    public bool Active => Status is TrainingJobs.Queued or TrainingJobs.Running;
    public TrainingParameters ParameterValues => JsonSerializer.Deserialize<TrainingParameters>(Parameters, ModelTraining.Json)!;
}

/// <summary>
/// Training jobs: started from the page, the API, the CLI or the schedule, run by Hangfire (<see cref="Jobs.TrainModelJob"/>),
/// followed through heartbeats; a job whose worker died is queued again (up to Ml:Training:MaxAttempts runs) or failed.
/// </summary>
sealed class TrainingJobs(NpgsqlDataSource db, IBackgroundJobClient hangfire, IOptions<TrainingOptions> options)
{
    public const string Queued = "queued", Running = "running", Succeeded = "succeeded", Failed = "failed", Cancelled = "cancelled";
    public static readonly IReadOnlyList<string> Triggers = ["page", "api", "cli", "schedule"];

    public sealed record Started(TrainingJob? Job, string? Error);

    public async Task<Started> StartAsync(string snapshot, string kind, TrainingParameters parameters, string trigger, Guid? by, Snapshots snapshots, CancellationToken ct)
    {
        if (kind != ModelKinds.Ngram)
            return new(null, $"model kind \"{kind}\": training jobs train the {ModelKinds.Ngram} kind (encoder and ensemble versions come from `ml train`-style offline runs for now)");
        if (parameters.Check() is { } invalid) return new(null, invalid);
        if (await snapshots.FindAsync(snapshot, ct) is not { } found) return new(null, $"no snapshot \"{snapshot}\" (give s3, 3 or its id; take one on the dataset page)");
        if (found.Train == 0) return new(null, $"snapshot {found.Name} has no training examples");
        Guid id;
        await using (var connection = await db.OpenConnectionAsync(ct))
        await using (var tx = await connection.BeginTransactionAsync(ct))
        {
            await connection.ExecuteAsync(new CommandDefinition("select pg_advisory_xact_lock(hashtext('ml.training_jobs'))", transaction: tx, cancellationToken: ct));
            var active = await connection.ExecuteScalarAsync<int>(new CommandDefinition(
                "select count(*) from ml.training_jobs where status in ('queued', 'running')", transaction: tx, cancellationToken: ct));
            if (active >= options.Value.MaxActiveJobs)
                return new(null, $"{active} training jobs are queued or running; at most {options.Value.MaxActiveJobs} at once (Ml:Training:MaxActiveJobs). Wait for one or cancel one.");
            id = Guid.CreateVersion7();
            await connection.ExecuteAsync(new CommandDefinition(InsertSql, new
            {
                id, by, trigger, SnapshotId = found.Id, kind, Parameters = JsonSerializer.Serialize(parameters, ModelTraining.Json), parameters.Epochs,
                Log = Line($"queued from the {trigger}: snapshot {found.Name} ({found.Examples} examples), {kind}, {JsonSerializer.Serialize(parameters, ModelTraining.Compact)}"),
            }, tx, cancellationToken: ct));
            await tx.CommitAsync(ct);
        }
        Enqueue(id);
        return new(await FindAsync(id, ct), null);
    }

    /// <summary>Hands the job to Hangfire; whichever worker takes it first claims it (<see cref="ClaimAsync"/>).</summary>
    void Enqueue(Guid id) => hangfire.Enqueue<Jobs.TrainModelJob>(j => j.RunAsync(id, CancellationToken.None));

    /// <summary>Cancels a queued job at once and asks a running one to stop (it does at its next heartbeat); false when it had ended.</summary>
    public async Task<bool?> CancelAsync(Guid id, Guid? by, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var status = await connection.QuerySingleOrDefaultAsync<string?>(new CommandDefinition(CancelSql,
            new { id, Line = Line($"cancel requested{(by is null ? "" : $" by {by}")}") }, cancellationToken: ct));
        if (status is not null) return true;
        return await connection.ExecuteScalarAsync<bool>(new CommandDefinition("select exists (select 1 from ml.training_jobs where id = @id)", new { id }, cancellationToken: ct))
            ? false : null;
    }

    public async Task<TrainingJob?> FindAsync(Guid id, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return await connection.QuerySingleOrDefaultAsync<TrainingJob>(new CommandDefinition($"{SelectSql} where j.id = @id", new { id }, cancellationToken: ct));
    }

    public async Task<TrainingJob?> FindAsync(int number, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return await connection.QuerySingleOrDefaultAsync<TrainingJob>(new CommandDefinition($"{SelectSql} where j.number = @number", new { number }, cancellationToken: ct));
    }

    public async Task<IReadOnlyList<TrainingJob>> ListAsync(int limit, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<TrainingJob>(new CommandDefinition($"{SelectSql} order by j.number desc limit @limit", new { limit }, cancellationToken: ct))).AsList();
    }

    /// <summary>Takes the job for this run (queued → running); null when it is not queued (cancelled, done, or running elsewhere).</summary>
    public async Task<TrainingJob?> ClaimAsync(Guid id, string worker, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var claimed = await connection.ExecuteAsync(new CommandDefinition(ClaimSql, new { id, worker, Line = Line($"running on {worker}") }, cancellationToken: ct));
        return claimed == 0 ? null : await FindAsync(id, ct);
    }

    /// <summary>Writes progress, the heartbeat and new log lines; true when a cancel was requested.</summary>
    public async Task<bool> HeartbeatAsync(Guid id, TrainingProgress? progress, IReadOnlyList<string> lines, CancellationToken ct)
    {
        double? eta = progress is { Epoch: > 0 } p ? p.Seconds / p.Epoch * (p.Epochs - p.Epoch) : null;
        await using var connection = await db.OpenConnectionAsync(ct);
        return await connection.ExecuteScalarAsync<bool>(new CommandDefinition(HeartbeatSql, new
        {
            id, progress?.Epoch, progress?.Epochs, progress?.Loss, Eta = eta,
            Line = lines.Count == 0 ? null : string.Join('\n', lines.Select(Line)), options.Value.MaxLogLines,
        }, cancellationToken: ct));
    }

    /// <summary>The job ended: succeeded (with its version, linked to the snapshot and job, and its test report), failed or cancelled.</summary>
    public async Task FinishAsync(Guid id, string status, string? error, Guid? versionId, TestReport? report, string line, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition(FinishSql, new { id, status, error, versionId, Line = Line(line), options.Value.MaxLogLines }, tx, cancellationToken: ct));
        if (versionId is not null)
            await connection.ExecuteAsync(new CommandDefinition("""
                update ml.model_versions v set training_job_id = j.id, snapshot_id = j.snapshot_id, test_report = @Report::jsonb
                from ml.training_jobs j where j.id = @id and v.id = @versionId
                """, new { id, versionId, Report = JsonSerializer.Serialize(report, ModelTraining.Json) }, tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
    }

    /// <summary>The host is stopping mid-run: the job goes back to the queue (Hangfire runs it again when a worker starts).</summary>
    public async Task RequeueAsync(Guid id, string line)
    {
        await using var connection = await db.OpenConnectionAsync();
        await connection.ExecuteAsync(new CommandDefinition(
            "update ml.training_jobs set status = 'queued', worker = null, log = log || E'\\n' || @Line where id = @id and status = 'running'",
            new { id, Line = Line(line) }));
    }

    /// <summary>
    /// Running jobs without a heartbeat for Ml:Training:HeartbeatTimeoutSeconds: their worker died. Each is queued again (and
    /// handed to Hangfire) while it has runs left, else marked failed; one whose cancel was requested is marked cancelled.
    /// Returns the jobs it changed with their new status.
    /// </summary>
    public async Task<IReadOnlyList<(Guid Id, string Status)>> RecoverAsync(CancellationToken ct)
    {
        var o = options.Value;
        List<(Guid Id, string Status)> changed;
        await using (var connection = await db.OpenConnectionAsync(ct))
            changed = [.. await connection.QueryAsync<(Guid, string)>(new CommandDefinition(RecoverSql,
                new { Timeout = (double)o.HeartbeatTimeoutSeconds, o.MaxAttempts, Now = Stamp() }, cancellationToken: ct))];
        foreach (var (id, _) in changed.Where(c => c.Status == Queued)) Enqueue(id);
        return changed;
    }

    /// <summary>New labelled examples from reviewers since the last scheduled job (or ever).</summary>
    public async Task<long> NewLabelsSinceLastScheduledAsync(CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return await connection.ExecuteScalarAsync<long>(new CommandDefinition("""
            select count(*) from ml.examples
            where origin = 'label' and removed_at is null
              and created_at > coalesce((select max(created_at) from ml.training_jobs where trigger = 'schedule'), '-infinity')
            """, cancellationToken: ct));
    }

    static string Stamp() => DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
    static string Line(string text) => $"{Stamp()} {text}";

    // The log with @Line appended, its oldest lines dropped beyond @MaxLogLines.
    const string AppendLog = """
        (select coalesce(string_agg(l, E'\n' order by n), '') from (
            select l, n from unnest(string_to_array(case when log = '' then @Line::text else log || E'\n' || @Line::text end, E'\n')) with ordinality as t (l, n)
            order by n desc limit @MaxLogLines) kept)
        """;

    const string InsertSql = """
        insert into ml.training_jobs (id, number, created_by, trigger, snapshot_id, kind, parameters, epochs, log)
        values (@Id, (select coalesce(max(number), 0) + 1 from ml.training_jobs), @By, @Trigger, @SnapshotId, @Kind, @Parameters::jsonb, @Epochs, @Log)
        """;

    const string SelectSql = """
        select j.id, j.number, j.created_at, j.created_by, j.trigger, j.snapshot_id, s.number as snapshot_number, j.kind, j.parameters::text as parameters,
               j.status, j.attempts, j.worker, j.epoch, j.epochs, j.loss, j.eta_seconds, j.started_at, j.heartbeat_at, j.finished_at,
               j.cancel_requested, j.error, j.version_id, v.number as version_number, j.log
        from ml.training_jobs j join ml.snapshots s on s.id = j.snapshot_id left join ml.model_versions v on v.id = j.version_id
        """;

    const string CancelSql = """
        update ml.training_jobs
           set cancel_requested = true, log = log || E'\n' || @Line,
               status = case when status = 'queued' then 'cancelled' else status end,
               finished_at = case when status = 'queued' then now() else finished_at end
         where id = @Id and status in ('queued', 'running')
        returning status
        """;

    const string ClaimSql = """
        update ml.training_jobs
           set status = 'running', attempts = attempts + 1, worker = @Worker, started_at = now(), heartbeat_at = now(),
               epoch = 0, loss = null, eta_seconds = null, log = log || E'\n' || @Line
         where id = @Id and status = 'queued' and not cancel_requested
        """;

    const string HeartbeatSql = $"""
        update ml.training_jobs
           set heartbeat_at = now(), epoch = coalesce(@Epoch, epoch), epochs = coalesce(@Epochs, epochs), loss = coalesce(@Loss, loss),
               eta_seconds = coalesce(@Eta, eta_seconds),
               log = case when @Line::text is null then log else {AppendLog} end
         where id = @Id
        returning cancel_requested
        """;

    const string FinishSql = $"""
        update ml.training_jobs
           set status = @Status, error = @Error, version_id = @VersionId, finished_at = now(), heartbeat_at = now(), eta_seconds = 0,
               epoch = case when @Status = 'succeeded' then epochs else epoch end,
               log = {AppendLog}
         where id = @Id
        """;

    const string RecoverSql = """
        update ml.training_jobs
           set status = case when cancel_requested then 'cancelled' when attempts < @MaxAttempts then 'queued' else 'failed' end,
               error = case when cancel_requested or attempts < @MaxAttempts then null
                            else 'its worker (' || coalesce(worker, '?') || ') stopped: no heartbeat for ' || @Timeout || ' s, after ' || attempts || ' run(s)' end,
               finished_at = case when cancel_requested or attempts >= @MaxAttempts then now() end,
               log = log || E'\n' || @Now || ' worker ' || coalesce(worker, '?') || ' stopped (no heartbeat since '
                     || to_char(heartbeat_at at time zone 'utc', 'YYYY-MM-DD HH24:MI:SS') || '): '
                     || case when cancel_requested then 'cancelled' when attempts < @MaxAttempts then 'queued again' else 'failed' end,
               worker = null
         where status = 'running' and heartbeat_at < now() - make_interval(secs => @Timeout)
        returning id, status
        """;
}
