using System.Text.Json;
using BirbalAI.Platform.Jobs;
using MongoDB.Bson;
using MongoDB.Bson.IO;
using MongoDB.Bson.Serialization;
using MongoDB.Bson.Serialization.Serializers;
using MongoDB.Driver;
using Microsoft.Extensions.Options;
using Npgsql;

namespace BirbalAI.Platform.Documents;

/// <summary>
/// A module that keeps bodies in the document store, asked by the sweeper (<see cref="SweepOrphanBodiesJob"/>) which of them
/// belong to a row that committed. Platform never reads a module's tables: the module answers for its own collection.
/// </summary>
public interface IDocumentStoreOwner
{
    /// <summary>The document store collection this module owns.</summary>
    string Collection { get; }

    /// <summary>Of <paramref name="ids"/>, those whose row is committed (their bodies are kept; the others are orphans).</summary>
    Task<IReadOnlySet<Guid>> CommittedAsync(IReadOnlyCollection<Guid> ids, CancellationToken ct);
}

/// <summary>One body as MongoDB keeps it: <c>{ _id: UUID (standard), body: {…}, writtenAt: ISODate }</c>.</summary>
sealed class StoredBody
{
    public Guid Id { get; set; }

    /// <summary>The caller's body as System.Text.Json writes it (as the PostgreSQL store does), so both stores read it back alike.</summary>
    public BsonDocument Body { get; set; } = [];

    /// <summary>When it was last written (UTC, milliseconds): the sweeper's age of a body without a committed row.</summary>
    public DateTime WrittenAt { get; set; }
}

/// <summary>
/// The MongoDB document store (when Mongo:ConnectionString is set): one MongoDB collection per store collection, in
/// Mongo:Database. <see cref="PutAsync{T}"/> is an idempotent upsert by id. It cannot join the caller's PostgreSQL
/// transaction (the connection and transaction arguments are ignored), so the caller writes the body first and then commits
/// its row (and its outbox row) in one PostgreSQL transaction: a reader who found the row always finds the body, and a body
/// whose row never committed (a crash or a rollback in between) is an orphan that <see cref="SweepOrphanBodiesJob"/> removes
/// once older than Mongo:OrphanGraceMinutes. A body is at most MongoDB's 16 MiB document.
/// </summary>
public sealed class MongoDocumentStore : IDocumentStore
{
    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    static readonly JsonWriterSettings RelaxedJson = new() { OutputMode = JsonOutputMode.RelaxedExtendedJson };

    readonly IMongoDatabase database;
    readonly TimeProvider clock;

    // The class map is registered once per process (a static constructor runs once; TryRegisterClassMap is safe when another
    // app in the process, a test's, got there first). The Guid representation is the member's own serializer, not a global.
    static MongoDocumentStore() => BsonClassMap.TryRegisterClassMap<StoredBody>(map =>
    {
        map.MapIdMember(b => b.Id).SetSerializer(new GuidSerializer(GuidRepresentation.Standard));
        map.MapMember(b => b.Body).SetElementName("body");
        map.MapMember(b => b.WrittenAt).SetElementName("writtenAt").SetSerializer(new DateTimeSerializer(DateTimeKind.Utc));
        map.SetIgnoreExtraElements(true);
    });

    public MongoDocumentStore(IMongoClient client, IOptions<MongoOptions> options, TimeProvider clock)
    {
        database = client.GetDatabase(options.Value.Database);
        this.clock = clock;
    }

    /// <summary>Makes sure the class map is registered (for code that renders this store's definitions without one).</summary>
    internal static void EnsureClassMap() => System.Runtime.CompilerServices.RuntimeHelpers.RunClassConstructor(typeof(MongoDocumentStore).TypeHandle);

    IMongoCollection<StoredBody> Collection(string name) => database.GetCollection<StoredBody>(name);

    DateTime Now => Milliseconds(clock.GetUtcNow().UtcDateTime);

    /// <summary>BSON dates keep milliseconds.</summary>
    internal static DateTime Milliseconds(DateTime utc) => new(utc.Ticks - utc.Ticks % TimeSpan.TicksPerMillisecond, DateTimeKind.Utc);

    /// <summary>Writes the body now, outside any PostgreSQL transaction: see the class's remarks for the order callers keep.</summary>
    public Task PutAsync<T>(string collection, Guid id, T body, NpgsqlConnection? connection, NpgsqlTransaction? tx, CancellationToken ct) where T : class =>
        Collection(collection).UpdateOneAsync(ById(id), Put(ToBson(body), Now), new UpdateOptions { IsUpsert = true }, ct);

    public async Task<T?> GetAsync<T>(string collection, Guid id, CancellationToken ct) where T : class
    {
        var stored = await Collection(collection).Find(ById(id)).FirstOrDefaultAsync(ct);
        return stored is null ? null : FromBson<T>(stored.Body);
    }

    public Task DeleteAsync(string collection, Guid id, NpgsqlConnection? connection, NpgsqlTransaction? tx, CancellationToken ct) =>
        Collection(collection).DeleteOneAsync(ById(id), ct);

    public async Task<IReadOnlyList<Guid>> IdsAsync(string collection, Guid? after, int limit, CancellationToken ct) =>
        await Collection(collection).Find(After(after)).Sort(InIdOrder).Limit(limit).Project(b => b.Id).ToListAsync(ct);

    /// <summary>Ids of bodies last written before <paramref name="before"/>, after <paramref name="after"/>, in order.</summary>
    internal async Task<IReadOnlyList<Guid>> IdsWrittenBeforeAsync(string collection, DateTime before, Guid? after, int limit, CancellationToken ct) =>
        await Collection(collection).Find(WrittenBefore(before, after)).Sort(InIdOrder).Limit(limit).Project(b => b.Id).ToListAsync(ct);

    /// <summary>Removes those of <paramref name="ids"/> still last written before <paramref name="before"/> (one written since is kept).</summary>
    internal async Task<long> DeleteWrittenBeforeAsync(string collection, IReadOnlyCollection<Guid> ids, DateTime before, CancellationToken ct) =>
        ids.Count == 0 ? 0 : (await Collection(collection).DeleteManyAsync(Orphans(ids, before), ct)).DeletedCount;

    // The definitions the store issues, rendered by its tests.
    internal static FilterDefinition<StoredBody> ById(Guid id) => Builders<StoredBody>.Filter.Eq(b => b.Id, id);

    internal static FilterDefinition<StoredBody> After(Guid? after) =>
        after is { } id ? Builders<StoredBody>.Filter.Gt(b => b.Id, id) : Builders<StoredBody>.Filter.Empty;

    internal static FilterDefinition<StoredBody> WrittenBefore(DateTime before, Guid? after) =>
        Builders<StoredBody>.Filter.And(Builders<StoredBody>.Filter.Lt(b => b.WrittenAt, before), After(after));

    internal static FilterDefinition<StoredBody> Orphans(IReadOnlyCollection<Guid> ids, DateTime before) =>
        Builders<StoredBody>.Filter.And(Builders<StoredBody>.Filter.In(b => b.Id, ids), Builders<StoredBody>.Filter.Lt(b => b.WrittenAt, before));

    internal static UpdateDefinition<StoredBody> Put(BsonDocument body, DateTime writtenAt) =>
        Builders<StoredBody>.Update.Set(b => b.Body, body).Set(b => b.WrittenAt, writtenAt);

    internal static SortDefinition<StoredBody> InIdOrder => Builders<StoredBody>.Sort.Ascending(b => b.Id);

    /// <summary>The body as System.Text.Json writes it (web defaults, as the PostgreSQL store); it must be a JSON object.</summary>
    internal static BsonDocument ToBson<T>(T body) where T : class
    {
        var json = JsonSerializer.Serialize(body, Json);
        if (!json.StartsWith('{')) throw new ArgumentException($"A document store body is a JSON object; {typeof(T).Name} is written as {json[..Math.Min(json.Length, 20)]}…", nameof(body));
        return BsonDocument.Parse(json);
    }

    internal static T? FromBson<T>(BsonDocument body) where T : class => JsonSerializer.Deserialize<T>(body.ToJson(RelaxedJson), Json);
}
