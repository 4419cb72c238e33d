using BirbalAI.Contracts.Ml;
using BirbalAI.Ml.Registry;
using BirbalAI.Platform.Messaging;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace BirbalAI.Ml.Serving;

/// <summary>
/// The model versions this process has loaded and which one is production. When the production pointer
/// changes (a broadcast reaches every replica; a reconnect re-reads it) the new version is loaded first and
/// then swapped in: requests that already hold the old one finish on it, new ones get the new one.
/// </summary>
sealed class ModelCatalog(ModelRegistry registry, SessionFactory sessions, IOptions<ServingOptions> options, ILogger<ModelCatalog> logger) : IDisposable
{
    public const string ProductionChannel = "ml.production";

    static readonly System.Diagnostics.Metrics.Meter Meter = new($"{BirbalAI.Platform.PlatformModule.TelemetryName}.Ml.Models");
    static readonly System.Diagnostics.Metrics.Counter<long> Loads = Meter.CreateCounter<long>("birbal.ml.model.loads", "{load}",
        "Model versions loaded into this process, by version");
    static readonly System.Diagnostics.Metrics.Counter<long> Swaps = Meter.CreateCounter<long>("birbal.ml.model.swaps", "{swap}",
        "Changes of the model this process serves as production (the first load counts), by the version swapped to");

    readonly Lock gate = new();
    readonly Dictionary<Guid, LoadedModel> loaded = [];
    readonly Dictionary<Guid, long> lastUsed = [];
    readonly Dictionary<Guid, Task<LoadedModel>> loading = [];
    readonly SemaphoreSlim refreshing = new(1, 1);
    volatile LoadedModel? production;
    long clock;

    /// <summary>The version new requests get, or null before one is loaded.</summary>
    public ModelRef? Production => production?.Ref;

    /// <summary>The production model's categories, or null before one is loaded.</summary>
    public IReadOnlyList<string>? ProductionCategories => production?.Categories;

    /// <summary>The versions loaded now, production included.</summary>
    public IReadOnlyList<ModelRef> Loaded
    {
        get { lock (gate) return [.. loaded.Values.Select(m => m.Ref).OrderBy(r => r.Number)]; }
    }

    /// <summary>
    /// A lease on the production model (<paramref name="version"/> null) or on that version, loading it if need be.
    /// The caller releases it when its request is done.
    /// </summary>
    public async Task<LoadedModel> AcquireAsync(Guid? version, CancellationToken ct)
    {
        while (true)
        {
            var model = version is { } id ? await GetOrLoadAsync(id, ct)
                : production ?? await RefreshProductionAsync(ct) ?? throw new NoProductionModelException();
            if (model.TryAcquire())
            {
                lock (gate) lastUsed[model.Ref.Id] = ++clock;
                return model;
            }
            // Evicted and disposed between lookup and lease: look again.
        }
    }

    /// <summary>Reads the production pointer and swaps to it (loading it first); returns the production model.</summary>
    public async Task<LoadedModel?> RefreshProductionAsync(CancellationToken ct)
    {
        // One refresh at a time: each reads the pointer afresh, so the last one to run wins with the newest state.
        await refreshing.WaitAsync(ct);
        try
        {
            var version = await registry.ProductionAsync(ct);
            if (version is null || production?.Ref.Id == version.Id) return production;
            var model = await GetOrLoadAsync(version.Id, ct);
            var previous = production;
            lock (gate)
            {
                production = model;
                lastUsed[model.Ref.Id] = ++clock;
                Evict();
            }
            Swaps.Add(1, new KeyValuePair<string, object?>("model_version", model.Ref.Number));
            logger.LogInformation("Serving model v{Number} ({Id}) on {Provider}{Previous}", model.Ref.Number, model.Ref.Id,
                sessions.LastProvider, previous is null ? "" : $", replacing v{previous.Ref.Number}");
            return model;
        }
        finally { refreshing.Release(); }
    }

    async Task<LoadedModel> GetOrLoadAsync(Guid id, CancellationToken ct)
    {
        Task<LoadedModel> task;
        lock (gate)
        {
            if (loaded.TryGetValue(id, out var model)) return model;
            if (!loading.TryGetValue(id, out task!)) loading[id] = task = LoadAsync(id);
        }
        return await task.WaitAsync(ct);
    }

    async Task<LoadedModel> LoadAsync(Guid id)
    {
        try
        {
            var version = await registry.FindAsync(id, CancellationToken.None) ?? throw new UnknownModelVersionException(id);
            byte[]? ngram = null, encoder = null, vocabulary = null;
            Encoder.EncoderSettings? settings = null;
            foreach (var component in version.ComponentList)
                switch (component.Kind)
                {
                    case Training.ModelKinds.Ngram: ngram = await registry.BlobAsync(component.Artifact, CancellationToken.None); break;
                    case Training.ModelKinds.Encoder:
                        encoder = await registry.BlobAsync(component.Artifact, CancellationToken.None);
                        vocabulary = await registry.BlobAsync(component.Vocabulary!, CancellationToken.None);
                        settings = component.EncoderSettings;
                        break;
                }
            var model = await Task.Run(() => LoadedModel.Create(version, ngram, encoder, vocabulary, settings, sessions, options.Value));
            Loads.Add(1, new KeyValuePair<string, object?>("model_version", version.Number));
            lock (gate)
            {
                loaded[id] = model;
                lastUsed[id] = ++clock;
                Evict();
            }
            return model;
        }
        finally
        {
            lock (gate) loading.Remove(id);
        }
    }

    /// <summary>Unloads the least recently used versions beyond the limit, never production; in-flight leases keep theirs alive.</summary>
    void Evict()
    {
        while (loaded.Count > options.Value.MaxLoadedVersions)
        {
            var victim = loaded.Keys.Where(k => k != production?.Ref.Id).MinBy(k => lastUsed.GetValueOrDefault(k));
            if (victim == Guid.Empty) return;
            loaded.Remove(victim, out var model);
            lastUsed.Remove(victim);
            model!.Release();
        }
    }

    public void Dispose()
    {
        lock (gate)
        {
            foreach (var model in loaded.Values) model.Release();
            loaded.Clear();
        }
    }
}

/// <summary>
/// Loads the production model at start-up and follows the production pointer on every replica. With
/// <see cref="ServingOptions.WarmUp"/> it also builds the language detector before the first request (about a
/// second), then has the GC hand back what those one-off loads left behind: a third of the idle memory.
/// </summary>
sealed class ModelServing(ModelCatalog catalog, Broadcasts broadcasts, IServiceProvider services, IOptions<ServingOptions> options) : IHostedService
{
    public async Task StartAsync(CancellationToken ct)
    {
        await broadcasts.SubscribeAsync(ModelCatalog.ProductionChannel,
            _ => catalog.RefreshProductionAsync(CancellationToken.None), catalog.RefreshProductionAsync, ct);
        if (!options.Value.WarmUp) return;
        await Task.Run(() => services.GetRequiredService<Text.LanguageDetection>().Detect("warming up the language models"), ct);
        GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
    }

    public Task StopAsync(CancellationToken ct) => Task.CompletedTask;
}
