using BirbalAI.Platform.Configuration;
using BirbalAI.Platform.Documents;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using MongoDB.Bson;
using MongoDB.Bson.IO;
using MongoDB.Bson.Serialization;
using MongoDB.Driver;

namespace BirbalAI.Platform.Tests.Documents;

/// <summary>The MongoDB document store without a server: its stored document in BSON, the filters and updates it sends, its settings.</summary>
public sealed class MongoDocumentStoreTests
{
    public sealed record Sample(string Original, string Text, string KeyId, int Pages);

    static readonly Guid Id = Guid.Parse("0192f4a1-7c3e-7d10-8a2b-0123456789ab");
    static readonly DateTime WrittenAt = new(2026, 12, 2, 11, 30, 15, 123, DateTimeKind.Utc);

    static MongoDocumentStoreTests() => MongoDocumentStore.EnsureClassMap();

    static BsonDocument Render(FilterDefinition<StoredBody> filter) =>
        filter.Render(new RenderArgs<StoredBody>(BsonSerializer.LookupSerializer<StoredBody>(), BsonSerializer.SerializerRegistry));

    static void Same(string expected, BsonValue actual) =>
        Assert.Equal(BsonDocument.Parse(expected).ToJson(), actual.ToJson());

    [Fact]
    public void A_stored_body_round_trips_through_BSON_with_a_standard_UUID_id_its_body_and_when_it_was_written()
    {
        var sample = new Sample("c2VhbGVk", "dGV4dA==", "k1", 3);
        var stored = new StoredBody { Id = Id, Body = MongoDocumentStore.ToBson(sample), WrittenAt = WrittenAt };

        var bson = stored.ToBsonDocument();

        Same("""
            { "_id" : UUID("0192f4a1-7c3e-7d10-8a2b-0123456789ab"),
              "body" : { "original" : "c2VhbGVk", "text" : "dGV4dA==", "keyId" : "k1", "pages" : 3 },
              "writtenAt" : ISODate("2026-12-02T11:30:15.123Z") }
            """, bson);
        var id = Assert.IsType<BsonBinaryData>(bson["_id"]);
        Assert.Equal(BsonBinarySubType.UuidStandard, id.SubType);
        Assert.Equal(Id.ToByteArray(bigEndian: true), id.Bytes);   // RFC 4122 byte order, as PostgreSQL's uuid

        var back = BsonSerializer.Deserialize<StoredBody>(bson.ToBson());
        Assert.Equal((Id, WrittenAt, DateTimeKind.Utc), (back.Id, back.WrittenAt, back.WrittenAt.Kind));
        Assert.Equal(sample, MongoDocumentStore.FromBson<Sample>(back.Body));
    }

    [Fact]
    public void Writing_times_keep_milliseconds_as_BSON_does()
    {
        var precise = WrittenAt.AddTicks(4567);

        Assert.Equal(WrittenAt, MongoDocumentStore.Milliseconds(precise));
        Assert.Equal(DateTimeKind.Utc, MongoDocumentStore.Milliseconds(precise).Kind);
    }

    [Fact]
    public void A_body_that_is_not_a_JSON_object_is_refused()
    {
        var error = Assert.Throws<ArgumentException>(() => MongoDocumentStore.ToBson(new[] { "a", "b" }));

        Assert.StartsWith("A document store body is a JSON object; String[] is written as [", error.Message);
    }

    [Fact]
    public void The_filters_updates_and_sort_the_store_sends_render_as_expected()
    {
        var next = Guid.Parse("0192f4a1-7c3e-7d10-8a2b-0123456789ac");

        Same("""{ "_id" : UUID("0192f4a1-7c3e-7d10-8a2b-0123456789ab") }""", Render(MongoDocumentStore.ById(Id)));
        Same("{ }", Render(MongoDocumentStore.After(null)));
        Same("""{ "_id" : { "$gt" : UUID("0192f4a1-7c3e-7d10-8a2b-0123456789ab") } }""", Render(MongoDocumentStore.After(Id)));
        Same("""{ "writtenAt" : { "$lt" : ISODate("2026-12-02T11:30:15.123Z") } }""", Render(MongoDocumentStore.WrittenBefore(WrittenAt, null)));
        Same("""
            { "writtenAt" : { "$lt" : ISODate("2026-12-02T11:30:15.123Z") }, "_id" : { "$gt" : UUID("0192f4a1-7c3e-7d10-8a2b-0123456789ab") } }
            """, Render(MongoDocumentStore.WrittenBefore(WrittenAt, Id)));
        Same("""
            { "_id" : { "$in" : [UUID("0192f4a1-7c3e-7d10-8a2b-0123456789ab"), UUID("0192f4a1-7c3e-7d10-8a2b-0123456789ac")] },
              "writtenAt" : { "$lt" : ISODate("2026-12-02T11:30:15.123Z") } }
            """, Render(MongoDocumentStore.Orphans([Id, next], WrittenAt)));

        var update = MongoDocumentStore.Put(MongoDocumentStore.ToBson(new Sample("o", "t", "k2", 1)), WrittenAt)
            .Render(new RenderArgs<StoredBody>(BsonSerializer.LookupSerializer<StoredBody>(), BsonSerializer.SerializerRegistry));
        Same("""
            { "$set" : { "body" : { "original" : "o", "text" : "t", "keyId" : "k2", "pages" : 1 }, "writtenAt" : ISODate("2026-12-02T11:30:15.123Z") } }
            """, update);

        var sort = MongoDocumentStore.InIdOrder.Render(new RenderArgs<StoredBody>(BsonSerializer.LookupSerializer<StoredBody>(), BsonSerializer.SerializerRegistry));
        Same("""{ "_id" : 1 }""", sort);
    }

    static MongoOptions Options(Dictionary<string, string?> settings)
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        services.AddValidatedOptions<MongoOptions>(MongoOptions.Section);
        return services.BuildServiceProvider().GetRequiredService<IOptions<MongoOptions>>().Value;
    }

    [Fact]
    public void Without_a_connection_string_MongoDB_is_not_used_and_the_defaults_hold()
    {
        var options = Options([]);

        Assert.False(options.Enabled);
        Assert.Equal(("birbal", 60, "41 * * * *", 500), (options.Database, options.OrphanGraceMinutes, options.SweepSchedule, options.SweepBatchSize));
        Assert.True(Options(new() { ["Mongo:ConnectionString"] = "mongodb://db1:27017,db2:27017/?replicaSet=rs0" }).Enabled);
    }

    [Theory]
    [InlineData("Mongo:ConnectionString", "postgres://127.0.0.1/", "Mongo:ConnectionString: is not a MongoDB connection string (mongodb://host:27017 or mongodb+srv://…): ")]
    [InlineData("Mongo:Database", "birbal.documents", "Mongo:Database: must be 1–63 characters without / \\ . space \" $ * < > : | ?")]
    [InlineData("Mongo:Database", "", "Mongo:Database: The Database field is required.")]
    [InlineData("Mongo:OrphanGraceMinutes", "1", "Mongo:OrphanGraceMinutes: The field OrphanGraceMinutes must be between 5 and 10080.")]
    [InlineData("Mongo:SweepBatchSize", "0", "Mongo:SweepBatchSize: The field SweepBatchSize must be between 10 and 10000.")]
    [InlineData("Mongo:SweepSchedule", "", "Mongo:SweepSchedule: The SweepSchedule field is required.")]
    public void A_wrong_setting_is_named_with_what_is_wrong(string key, string value, string expected)
    {
        var settings = new Dictionary<string, string?> { ["Mongo:ConnectionString"] = "mongodb://127.0.0.1:27017", [key] = value };

        var error = Assert.Throws<OptionsValidationException>(() => Options(settings));

        Assert.StartsWith(expected, Assert.Single(error.Failures));
    }
}
