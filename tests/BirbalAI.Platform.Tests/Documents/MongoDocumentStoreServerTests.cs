using BirbalAI.Platform.Documents;
using BirbalAI.Platform.Jobs;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MongoDB.Driver;

namespace BirbalAI.Platform.Tests.Documents;

/// <summary>
/// The MongoDB document store and its sweeper against a real MongoDB, when BIRBAL_TEST_MONGO_URL names one (there is none on
/// this machine): otherwise every test here reports itself skipped. Each test works in a database of its own, dropped after.
/// </summary>
public sealed class MongoDocumentStoreServerTests : IAsyncLifetime
{
    public const string Variable = "BIRBAL_TEST_MONGO_URL";

    /// <summary>The server's URL, or a skip that says why there is none.</summary>
    public static string Url()
    {
        if (Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } url) return url;
        Assert.Skip($"{Variable} is not set: these tests need a MongoDB server (e.g. mongodb://127.0.0.1:27017)");
        return "";
    }

    public sealed record Sample(string Original, string Text, string KeyId);

    sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    /// <summary>Stands in for a module: these ids have a committed row.</summary>
    sealed class Owner(string collection, params Guid[] committed) : IDocumentStoreOwner
    {
        public string Collection => collection;
        public List<int> Asked { get; } = [];

        public Task<IReadOnlySet<Guid>> CommittedAsync(IReadOnlyCollection<Guid> ids, CancellationToken ct)
        {
            Asked.Add(ids.Count);
            return Task.FromResult<IReadOnlySet<Guid>>(ids.Where(committed.Contains).ToHashSet());
        }
    }

    const string Collection = "sample.bodies";
    readonly string database = "birbal_test_" + Guid.NewGuid().ToString("N")[..12];
    MongoClient? client;
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync()
    {
        if (Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } url) client = new MongoClient(url);
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        if (client is null) return;
        await client.DropDatabaseAsync(database);
        client.Dispose();
    }

    MongoDocumentStore Store(TimeProvider? clock = null, int graceMinutes = 60) =>
        new(client ?? new MongoClient(Url()), Microsoft.Extensions.Options.Options.Create(Settings(graceMinutes)), clock ?? TimeProvider.System);

    MongoOptions Settings(int graceMinutes) => new() { ConnectionString = Url(), Database = database, OrphanGraceMinutes = graceMinutes, SweepBatchSize = 10 };

    [Fact]
    public async Task Put_get_delete_and_ids_work_and_putting_again_replaces()
    {
        Url();
        var store = Store();
        var ids = Enumerable.Range(0, 5).Select(_ => Guid.CreateVersion7()).ToList();
        foreach (var id in ids) await store.PutAsync(Collection, id, new Sample("o", "t", "k1"), null, null, Ct);

        Assert.Equal(new Sample("o", "t", "k1"), await store.GetAsync<Sample>(Collection, ids[0], Ct));
        Assert.Null(await store.GetAsync<Sample>(Collection, Guid.NewGuid(), Ct));
        await store.PutAsync(Collection, ids[0], new Sample("o2", "t2", "k2"), null, null, Ct);
        await store.PutAsync(Collection, ids[0], new Sample("o2", "t2", "k2"), null, null, Ct);
        Assert.Equal(new Sample("o2", "t2", "k2"), await store.GetAsync<Sample>(Collection, ids[0], Ct));
        Assert.Equal(5, await client!.GetDatabase(database).GetCollection<StoredBody>(Collection).CountDocumentsAsync(FilterDefinition<StoredBody>.Empty, cancellationToken: Ct));

        // Ids in PostgreSQL's uuid order (bytes), paged by the last one seen.
        var ordered = ids.OrderBy(id => Convert.ToHexString(id.ToByteArray(bigEndian: true)), StringComparer.Ordinal).ToList();
        var first = await store.IdsAsync(Collection, null, 3, Ct);
        var rest = await store.IdsAsync(Collection, first[^1], 3, Ct);
        Assert.Equal(ordered, first.Concat(rest));

        await store.DeleteAsync(Collection, ids[1], null, null, Ct);
        Assert.Null(await store.GetAsync<Sample>(Collection, ids[1], Ct));
        Assert.DoesNotContain(ids[1], await store.IdsAsync(Collection, null, 10, Ct));
    }

    [Fact]
    public async Task The_sweeper_removes_an_orphan_past_the_grace_period_and_keeps_committed_bodies_and_fresh_orphans()
    {
        Url();
        var now = DateTimeOffset.UtcNow;
        var old = Store(new FixedClock(now.AddMinutes(-61)));
        var fresh = Store(new FixedClock(now.AddMinutes(-59)));
        Guid orphan = Guid.CreateVersion7(), committed = Guid.CreateVersion7(), young = Guid.CreateVersion7(), rewritten = Guid.CreateVersion7();
        await old.PutAsync(Collection, orphan, new Sample("o", "t", "k"), null, null, Ct);
        await old.PutAsync(Collection, committed, new Sample("o", "t", "k"), null, null, Ct);
        await old.PutAsync(Collection, rewritten, new Sample("o", "t", "k"), null, null, Ct);
        await fresh.PutAsync(Collection, rewritten, new Sample("o", "t", "k"), null, null, Ct);   // written again: young again
        await fresh.PutAsync(Collection, young, new Sample("o", "t", "k"), null, null, Ct);
        // Many old committed bodies, so the sweep goes through several pages (SweepBatchSize 10).
        var others = Enumerable.Range(0, 25).Select(_ => Guid.CreateVersion7()).ToArray();
        foreach (var id in others) await old.PutAsync(Collection, id, new Sample("o", "t", "k"), null, null, Ct);
        var owner = new Owner(Collection, [committed, .. others]);
        var unowned = Guid.CreateVersion7();
        await old.PutAsync("nobody.bodies", unowned, new Sample("o", "t", "k"), null, null, Ct);
        var store = Store(new FixedClock(now));

        var removed = await new SweepOrphanBodiesJob(store, [owner], Microsoft.Extensions.Options.Options.Create(Settings(60)), new FixedClock(now),
            NullLogger<SweepOrphanBodiesJob>.Instance).RunAsync(Ct);

        Assert.Equal(1, removed);
        Assert.Null(await store.GetAsync<Sample>(Collection, orphan, Ct));
        Assert.NotNull(await store.GetAsync<Sample>(Collection, committed, Ct));
        Assert.NotNull(await store.GetAsync<Sample>(Collection, young, Ct));
        Assert.NotNull(await store.GetAsync<Sample>(Collection, rewritten, Ct));
        Assert.NotNull(await store.GetAsync<Sample>("nobody.bodies", unowned, Ct));   // no owner answers for it: never swept
        Assert.Equal([10, 10, 7], owner.Asked);   // old bodies only (27), a page at a time
    }
}
