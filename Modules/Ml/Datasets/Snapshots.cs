using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using BirbalAI.Ml.Data;
using BirbalAI.Ml.Training;
using BirbalAI.Platform.Blobs;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;

namespace BirbalAI.Ml.Datasets;

/// <summary>A row of ml.snapshots.</summary>
sealed record Snapshot(Guid Id, int Number, DateTime CreatedAt, Guid? CreatedBy, string BlobHash, long Size, int Examples, int Train, int Validation, int Test, string Counts)
{
    public string Name => $"s{Number}";
    public IReadOnlyList<StratumCount> CountList => JsonSerializer.Deserialize<StratumCount[]>(Counts, ModelTraining.Json)!;
}

sealed record StratumCount(string Category, string Language, int Train, int Validation, int Test);

/// <summary>One line of a snapshot's JSONL: the example, its label and its split.</summary>
sealed record SnapshotRow(Guid Id, string Text, IReadOnlyList<string> Labels, string Language, string Source, string Split)
{
    public LabelledText ToLabelled() => new(Text, Labels, null, Language);
}

sealed class SnapshotException(string message) : Exception(message);

/// <summary>
/// Versioned, immutable dataset snapshots: every example not removed, with its split (<see cref="DatasetSplit"/>), as JSONL in
/// the blob store (its SHA-256 is the data hash); a snapshot with the same bytes as the latest one is not taken twice.
/// </summary>
sealed class Snapshots(NpgsqlDataSource db, IBlobStore blobs, IOptions<DatasetOptions> options)
{
    public sealed record Taken(Snapshot Snapshot, bool Created);

    public async Task<Taken> TakeAsync(Guid? by, CancellationToken ct)
    {
        var o = options.Value;
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        // One snapshot at a time: splits are assigned under this lock, so two replicas never give one example two splits.
        await connection.ExecuteAsync(new CommandDefinition("select pg_advisory_xact_lock(hashtext('ml.snapshots'))", transaction: tx, cancellationToken: ct));
        var count = await connection.ExecuteScalarAsync<long>(new CommandDefinition("select count(*) from ml.examples where removed_at is null", transaction: tx, cancellationToken: ct));
        if (count == 0) throw new SnapshotException("There are no labelled examples yet: accept labels in the review workspace or import a file first.");
        if (count > o.MaxSnapshotExamples)
            throw new SnapshotException($"There are {count} examples; a snapshot holds at most {o.MaxSnapshotExamples} (Ml:Datasets:MaxSnapshotExamples).");
        var rows = (await connection.QueryAsync<ExampleRow>(new CommandDefinition(ExamplesSql, transaction: tx, cancellationToken: ct))).AsList();
        var assigned = DatasetSplit.Assign([.. rows.Select(r => new DatasetSplit.Item(r.Id, DatasetSplit.Stratum(r.Language, r.Categories, Categories.Default), r.Split))],
            o.ValidationShare, o.TestShare);
        if (assigned.Count > 0)
            await connection.ExecuteAsync(new CommandDefinition("""
                update ml.examples e set split = a.split from unnest(@Ids, @Splits) as a (id, split) where e.id = a.id and e.split is null
                """, new { Ids = assigned.Keys.ToArray(), Splits = assigned.Values.ToArray() }, tx, cancellationToken: ct));

        var lines = rows.Select(r => new SnapshotRow(r.Id, r.Text, r.Categories, r.Language, r.Source, r.Split ?? assigned[r.Id])).ToList();
        var bytes = Encoding.UTF8.GetBytes(string.Concat(lines.Select(l => JsonSerializer.Serialize(l, ModelTraining.Compact) + "\n")));
        var hash = BlobHash.Of(bytes);
        var latest = await connection.QuerySingleOrDefaultAsync<Snapshot>(new CommandDefinition(
            $"select {Columns} from ml.snapshots order by number desc limit 1", transaction: tx, cancellationToken: ct));
        if (latest?.BlobHash == hash)
        {
            await tx.CommitAsync(ct);
            return new Taken(latest, false);
        }
        await blobs.PutAsync(bytes, ct);   // content-addressed: a retry stores nothing twice
        var counts = lines.GroupBy(l => (Category: DatasetSplit.Stratum(l.Language, l.Labels, Categories.Default).Split('|')[1], l.Language))
            .OrderBy(g => g.Key.Category, StringComparer.Ordinal).ThenBy(g => g.Key.Language, StringComparer.Ordinal)
            .Select(g => new StratumCount(g.Key.Category, g.Key.Language, g.Count(l => l.Split == DatasetSplit.Train),
                g.Count(l => l.Split == DatasetSplit.Validation), g.Count(l => l.Split == DatasetSplit.Test))).ToList();
        var snapshot = await connection.QuerySingleAsync<Snapshot>(new CommandDefinition(InsertSql, new
        {
            Id = Guid.CreateVersion7(), by, hash, Size = (long)bytes.Length, Examples = lines.Count,
            Train = lines.Count(l => l.Split == DatasetSplit.Train), Validation = lines.Count(l => l.Split == DatasetSplit.Validation),
            Test = lines.Count(l => l.Split == DatasetSplit.Test), Counts = JsonSerializer.Serialize(counts, ModelTraining.Json),
            ExampleIds = lines.Select(l => l.Id).ToArray(),
        }, tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
        return new Taken(snapshot, true);
    }

    public async Task<IReadOnlyList<Snapshot>> ListAsync(CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<Snapshot>(new CommandDefinition($"select {Columns} from ml.snapshots order by number desc", cancellationToken: ct))).AsList();
    }

    /// <summary>A snapshot named "3", "s3" or by its id; null when there is none.</summary>
    public async Task<Snapshot?> FindAsync(string name, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        if (Guid.TryParse(name, out var id))
            return await connection.QuerySingleOrDefaultAsync<Snapshot>(new CommandDefinition($"select {Columns} from ml.snapshots where id = @id", new { id }, cancellationToken: ct));
        var digits = name.StartsWith('s') || name.StartsWith('S') ? name[1..] : name;
        return int.TryParse(digits, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var number)
            ? await connection.QuerySingleOrDefaultAsync<Snapshot>(new CommandDefinition($"select {Columns} from ml.snapshots where number = @number", new { number }, cancellationToken: ct))
            : null;
    }

    /// <summary>The snapshot's rows, read back from the blob store.</summary>
    public async Task<IReadOnlyList<SnapshotRow>> RowsAsync(Snapshot snapshot, CancellationToken ct)
    {
        var bytes = await blobs.GetAsync(snapshot.BlobHash, ct);
        return [.. Encoding.UTF8.GetString(bytes).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => JsonSerializer.Deserialize<SnapshotRow>(line, ModelTraining.Json)!)];
    }

    /// <summary>
    /// Deletes examples labelled more than Ml:Datasets:RetentionDays ago, except those of a snapshot a registered model version was
    /// trained on; returns how many went. Nothing with RetentionDays = 0.
    /// </summary>
    public async Task<int> ApplyRetentionAsync(CancellationToken ct)
    {
        if (options.Value.RetentionDays == 0) return 0;
        await using var connection = await db.OpenConnectionAsync(ct);
        return await connection.ExecuteAsync(new CommandDefinition(RetentionSql, new { options.Value.RetentionDays }, cancellationToken: ct));
    }

    sealed class ExampleRow
    {
        public Guid Id { get; init; }
        public string Text { get; init; } = "";
        public string Language { get; init; } = "";
        public string[] Categories { get; init; } = [];
        public string Source { get; init; } = "";
        public string? Split { get; init; }
    }

    const string Columns = "id, number, created_at, created_by, blob_hash, size, examples, train, validation, test, counts::text as counts";

    const string ExamplesSql = "select id, text, language, categories, source, split from ml.examples where removed_at is null order by id";

    const string InsertSql = $"""
        with s as (
            insert into ml.snapshots (id, number, created_by, blob_hash, size, examples, train, validation, test, counts)
            values (@Id, (select coalesce(max(number), 0) + 1 from ml.snapshots), @By, @Hash, @Size, @Examples, @Train, @Validation, @Test, @Counts::jsonb)
            returning {Columns}
        ), members as (
            insert into ml.snapshot_examples (snapshot_id, example_id) select @Id, unnest(@ExampleIds)
        )
        select * from s
        """;

    const string RetentionSql = """
        delete from ml.examples e
        where e.labelled_at < now() - make_interval(days => @RetentionDays)
          and not exists (select 1 from ml.snapshot_examples se join ml.model_versions v on v.snapshot_id = se.snapshot_id where se.example_id = e.id)
        """;
}
