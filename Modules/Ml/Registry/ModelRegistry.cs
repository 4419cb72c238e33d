using System.Text.Json;
using BirbalAI.Ml.Evaluation;
using BirbalAI.Ml.Features;
using BirbalAI.Ml.Training;
using BirbalAI.Platform.Blobs;
using Dapper;
using Npgsql;

namespace BirbalAI.Ml.Registry;

/// <summary>A row of ml.model_versions (settable properties: Dapper cannot match array columns to a record's constructor).</summary>
sealed class ModelVersion
{
    public Guid Id { get; init; }
    public int Number { get; init; }
    public DateTime CreatedAt { get; init; }
    public string ArtifactHash { get; init; } = "";
    public long ArtifactSize { get; init; }
    public string[] Categories { get; init; } = [];
    public float[] Thresholds { get; init; } = [];
    public string Featurizer { get; init; } = "";
    public string Training { get; init; } = "";
    public string DataHash { get; init; } = "";
    public string? Metrics { get; init; }
    public string Source { get; init; } = "";
    public string Kind { get; init; } = ModelKinds.Ngram;
    public string Components { get; init; } = "[]";
    public string? Combination { get; init; }
    /// <summary>The snapshot and training job it came from (null for the starter model and `ml register`), and its test report on that snapshot's test split.</summary>
    public Guid? SnapshotId { get; init; }
    public Guid? TrainingJobId { get; init; }
    public string? TestReport { get; init; }

    public Evaluation.TestReport? TestReportValues => TestReport is null ? null : JsonSerializer.Deserialize<Evaluation.TestReport>(TestReport, ModelTraining.Json);

    public IReadOnlyList<RegisteredComponent> ComponentList => JsonSerializer.Deserialize<RegisteredComponent[]>(Components, ModelTraining.Json)!;
    public Ensemble.Combination? CombinationWeights => Combination is null ? null : JsonSerializer.Deserialize<Ensemble.Combination>(Combination, ModelTraining.Json);

    public FeaturizerSettings FeaturizerSettings => JsonSerializer.Deserialize<FeaturizerSettings>(Featurizer, ModelTraining.Json)!;
    public EvaluationReport? Evaluation => Metrics is null ? null : JsonSerializer.Deserialize<EvaluationReport>(Metrics, ModelTraining.Json);
}

/// <summary>One artifact of a version in the blob store: its kind, hash and size; an encoder's vocabulary and settings; its own test metrics.</summary>
sealed record RegisteredComponent(string Kind, string Artifact, long Size, string? Vocabulary = null, string? Encoder = null,
    [property: System.Text.Json.Serialization.JsonPropertyName("encoder_settings")] Encoder.EncoderSettings? EncoderSettings = null,
    EvaluationReport? Evaluation = null, IReadOnlyList<string>? Languages = null);

/// <summary>
/// The model registry (schema ml): every version with its artifact (in the blob store), featuriser
/// settings, training parameters, data hash and metrics, and the production pointer.
/// </summary>
sealed class ModelRegistry(NpgsqlDataSource db, IBlobStore blobs)
{
    public Task<ModelVersion> RegisterAsync(byte[] onnx, ModelCard card, CancellationToken ct) =>
        RegisterAsync(new ModelPackage(card, onnx), ct);

    public async Task<ModelVersion> RegisterAsync(ModelPackage package, CancellationToken ct) =>
        (await RegisterAsync(package, firstAndProduction: false, ct))!;

    /// <summary>
    /// Registers the model as the first version and makes it production, only while the registry is empty;
    /// replicas starting together decide under one lock, so exactly one registers it. Null when not empty.
    /// </summary>
    public Task<ModelVersion?> RegisterFirstAsync(byte[] onnx, ModelCard card, CancellationToken ct) =>
        RegisterAsync(new ModelPackage(card, onnx), firstAndProduction: true, ct);

    public Task<ModelVersion?> RegisterFirstAsync(ModelPackage package, CancellationToken ct) =>
        RegisterAsync(package, firstAndProduction: true, ct);

    async Task<ModelVersion?> RegisterAsync(ModelPackage package, bool firstAndProduction, CancellationToken ct)
    {
        package.Validate();
        var card = package.Card;
        // Blobs first (content-addressed, so a retry or a replica registering the same files stores nothing twice).
        var components = new List<RegisteredComponent>();
        var ngramCard = card.Components?.FirstOrDefault(c => c.Kind == ModelKinds.Ngram);
        var encoderCard = card.Components?.FirstOrDefault(c => c.Kind == ModelKinds.Encoder);
        if (package.HasNgram)
            components.Add(new RegisteredComponent(ModelKinds.Ngram, await blobs.PutAsync(package.Ngram!, ct), package.Ngram!.Length,
                Evaluation: ngramCard?.Evaluation));
        if (package.HasEncoder)
            components.Add(new RegisteredComponent(ModelKinds.Encoder, await blobs.PutAsync(package.Encoder!, ct), package.Encoder!.Length,
                await blobs.PutAsync(package.Vocabulary!, ct), encoderCard?.Encoder, encoderCard?.EncoderSettings ?? Encoder.EncoderSettings.Default,
                encoderCard?.Evaluation, encoderCard?.Languages));
        var primary = components[0];
        var (hash, size) = (primary.Artifact, primary.Size);
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        // Numbers in registration order, also when two replicas register at once.
        await connection.ExecuteAsync(new CommandDefinition("select pg_advisory_xact_lock(hashtext('ml.model_versions'))", transaction: tx, cancellationToken: ct));
        if (firstAndProduction && await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
                "select exists (select 1 from ml.model_versions)", transaction: tx, cancellationToken: ct)))
            return null;
        var version = await connection.QuerySingleAsync<ModelVersion>(new CommandDefinition(InsertSql, new
        {
            Id = Guid.CreateVersion7(), hash, size, Categories = card.Categories.ToArray(), card.Thresholds,
            Featurizer = JsonSerializer.Serialize(card.Featurizer, ModelTraining.Json),
            Training = JsonSerializer.Serialize(card.Training, ModelTraining.Json),
            card.DataHash,
            Metrics = card.Evaluation is null ? null : JsonSerializer.Serialize(card.Evaluation, ModelTraining.Json),
            Source = card.Source ?? "trained",
            card.Kind,
            Components = JsonSerializer.Serialize(components, ModelTraining.Json),
            Combination = card.Combination is null ? null : JsonSerializer.Serialize(card.Combination, ModelTraining.Json),
        }, tx, cancellationToken: ct));
        if (firstAndProduction)
            await connection.ExecuteAsync(new CommandDefinition(PromoteSql, new { VersionId = version.Id, By = (Guid?)null }, tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
        return version;
    }

    public async Task PromoteAsync(Guid versionId, Guid? by, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        if (!await PromoteAsync(connection, null, versionId, by, ct)) throw new KeyNotFoundException($"no model version {versionId}");
    }

    /// <summary>Points production at <paramref name="versionId"/> in the caller's transaction; false when there is no such version.</summary>
    public static async Task<bool> PromoteAsync(NpgsqlConnection connection, NpgsqlTransaction? tx, Guid versionId, Guid? by, CancellationToken ct) =>
        await connection.ExecuteAsync(new CommandDefinition(PromoteSql, new { versionId, by }, tx, cancellationToken: ct)) > 0;

    public async Task<ModelVersion?> FindAsync(Guid id, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return await connection.QuerySingleOrDefaultAsync<ModelVersion>(new CommandDefinition(
            $"select {Columns} from ml.model_versions v where v.id = @Id", new { id }, cancellationToken: ct));
    }

    public async Task<ModelVersion?> FindAsync(int number, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return await connection.QuerySingleOrDefaultAsync<ModelVersion>(new CommandDefinition(
            $"select {Columns} from ml.model_versions v where v.number = @Number", new { number }, cancellationToken: ct));
    }

    /// <summary>A version named "3", "v3", "birbal-v3" or by its id; null when no such version (or not a version name).</summary>
    public Task<ModelVersion?> FindAsync(string name, CancellationToken ct)
    {
        if (Guid.TryParse(name, out var id)) return FindAsync(id, ct);
        var number = name.StartsWith("birbal-v", StringComparison.OrdinalIgnoreCase) ? name[8..]
            : name.StartsWith('v') || name.StartsWith('V') ? name[1..] : name;
        return int.TryParse(number, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) && n > 0
            ? FindAsync(n, ct) : Task.FromResult<ModelVersion?>(null);
    }

    public async Task<ModelVersion?> ProductionAsync(CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return await connection.QuerySingleOrDefaultAsync<ModelVersion>(new CommandDefinition(
            $"select {Columns} from ml.model_versions v join ml.production p on p.version_id = v.id", cancellationToken: ct));
    }

    public async Task<IReadOnlyList<ModelVersion>> ListAsync(CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<ModelVersion>(new CommandDefinition(
            $"select {Columns} from ml.model_versions v order by number desc", cancellationToken: ct))).AsList();
    }

    public Task<byte[]> ArtifactAsync(ModelVersion version, CancellationToken ct) => blobs.GetAsync(version.ArtifactHash, ct);

    public Task<byte[]> BlobAsync(string hash, CancellationToken ct) => blobs.GetAsync(hash, ct);

    const string Columns = """
        v.id, v.number, v.created_at, v.artifact_hash, v.artifact_size, v.categories, v.thresholds,
        v.featurizer::text as featurizer, v.training::text as training, v.data_hash, v.metrics::text as metrics, v.source,
        v.kind, v.components::text as components, v.combination::text as combination,
        v.snapshot_id, v.training_job_id, v.test_report::text as test_report
        """;

    const string InsertSql = $"""
        insert into ml.model_versions as v (id, number, artifact_hash, artifact_size, categories, thresholds, featurizer, training, data_hash, metrics, source,
                                       kind, components, combination)
        values (@Id, (select coalesce(max(number), 0) + 1 from ml.model_versions), @Hash, @Size, @Categories, @Thresholds,
                @Featurizer::jsonb, @Training::jsonb, @DataHash, @Metrics::jsonb, @Source, @Kind, @Components::jsonb, @Combination::jsonb)
        returning {Columns}
        """;

    const string PromoteSql = """
        insert into ml.production (version_id, promoted_by)
        select id, @By from ml.model_versions where id = @VersionId
        on conflict (singleton) do update set version_id = excluded.version_id, promoted_at = now(), promoted_by = excluded.promoted_by
        """;
}
