using BirbalAI.Ml.Data;
using BirbalAI.Ml.Datasets;
using BirbalAI.Ml.Registry;
using BirbalAI.Ml.Text;
using BirbalAI.Platform;
using Dapper;
using Npgsql;

namespace BirbalAI.Ml.Training;

/// <summary>
/// The demo's second model version: a few labelled examples imported as `ml import` would, a snapshot of them, and a training
/// job on it (as `ml train-job` queues one), which the worker runs when the app does and registers as the next version, not promoted.
/// </summary>
sealed class DemoTraining(NpgsqlDataSource db, LanguageDetection languages, Snapshots snapshots, TrainingJobs jobs, ModelRegistry registry) : IDemoContent
{
    public const string ImportName = "demo";

    static readonly string[] Threats =
    [
        "I will find you and hurt you", "you are dead when I see you", "watch your back, I will hurt you", "touch my plot again and I will break your arm",
        "I know where you live and I will make you bleed", "come near my shed and you will regret it",
    ];

    static readonly string[] Insults = ["you are a pathetic useless idiot", "shut up, nobody wants you here, loser", "what a stupid worthless moron you are"];

    static readonly string[] Everyday =
    [
        "see you at the allotment on Saturday", "thanks for the help with the weeding", "the tomatoes are finally ripe", "who brings the snacks on Friday",
        "the green shed is open from nine", "does anyone have spare bean poles", "lovely sunny day for planting", "the water tap by the gate is fixed",
    ];

    public int Order => 50;

    public async Task<string?> ExistingContentAsync(CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var examples = await connection.ExecuteScalarAsync<long>(new CommandDefinition("select count(*) from ml.examples", cancellationToken: ct));
        return examples > 0 ? $"{examples} labelled example(s)" : null;
    }

    public async Task AddAsync(DemoInstallation demo, CancellationToken ct)
    {
        // Two phrasings of each, so every category's stratum has examples left for training after the validation and test shares.
        IReadOnlyList<LabelledText> rows =
        [
            .. Threats.SelectMany(t => new[] { t, $"{t}, I mean it" }).Select(t => new LabelledText(t, ["violence", "harassment/threatening"], null, "en")),
            .. Insults.SelectMany(t => new[] { t, $"honestly, {t}" }).Select(t => new LabelledText(t, ["harassment"], null, "en")),
            .. Everyday.SelectMany(t => new[] { t, $"{t}!" }).Select(t => new LabelledText(t, [], null, "en")),
        ];
        Snapshot snapshot;
        await using (var connection = await db.OpenConnectionAsync(ct))
        await using (var tx = await connection.BeginTransactionAsync(ct))
        {
            await Examples.UpsertAsync(connection, tx, Examples.FromFile(rows, ImportName, languages.Detect, null), ct);
            await tx.CommitAsync(ct);
        }
        try { snapshot = (await snapshots.TakeAsync(null, ct)).Snapshot; }
        catch (SnapshotException e) { throw new InvalidOperationException($"demo: no snapshot of the labelled examples: {e.Message}"); }
        var started = await jobs.StartAsync(snapshot.Id.ToString(), ModelKinds.Ngram, new TrainingParameters(), "cli", null, snapshots, ct);
        if (started.Job is not { } job) throw new InvalidOperationException($"demo: the training job could not be queued: {started.Error}");
        await demo.Output.WriteLineAsync($"demo: {rows.Count} labelled examples imported as import:{ImportName}, snapshot {snapshot.Name} "
            + $"(train {snapshot.Train}, validation {snapshot.Validation}, test {snapshot.Test})");
        var next = (await registry.ListAsync(ct)).Select(v => v.Number).DefaultIfEmpty(0).Max() + 1;
        await demo.Output.WriteLineAsync($"demo: training job #{job.Number} queued: it registers v{next} when the worker runs it");
    }
}
