using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using BirbalAI.Documents.Uploads;
using BirbalAI.Platform.Documents;
using BirbalAI.Platform.Jobs;
using BirbalAI.Testing;
using Dapper;
using Hangfire;
using Hangfire.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using MongoDB.Driver;
using Npgsql;

namespace BirbalAI.IntegrationTests.Documents;

/// <summary>
/// The app with Mongo:ConnectionString: the document store it uses, the orphan sweeper's schedule (removed again by a replica
/// without it) and readiness (no server
/// needed: the MongoDB client connects on first use; DocumentsTests checks the default, PostgreSQL), and one upload through the whole pipeline with bodies in
/// MongoDB, swept, when BIRBAL_TEST_MONGO_URL names a server (reported skipped otherwise).
/// </summary>
public sealed class MongoDocumentsTests
{
    const string Variable = "BIRBAL_TEST_MONGO_URL";
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    static IReadOnlyList<RecurringJobDto> RecurringJobs(App app) => app.Services.GetRequiredService<JobStorage>().GetConnection().GetRecurringJobs();

    [Fact]
    public async Task With_a_MongoDB_connection_string_bodies_go_to_MongoDB_and_the_orphan_sweeper_is_scheduled()
    {
        await using var app = new App();
        await app.InitializeAsync();
        // Nothing listens there: starting must not need the server.
        app.With("Mongo:ConnectionString", "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=1000").With("Mongo:SweepSchedule", "7 */2 * * *");

        Assert.IsType<MongoDocumentStore>(app.Services.GetRequiredService<IDocumentStore>());
        Assert.Equal("7 */2 * * *", Assert.Single(RecurringJobs(app), j => j.Id == SweepOrphanBodiesJob.Id).Cron);
        Assert.Contains(app.Services.GetServices<IDocumentStoreOwner>(), o => o.Collection == UploadDocument.Bodies);

        // Readiness now depends on MongoDB too: unreachable, the pod is not ready, and says why.
        var ready = await app.CreateClient().GetAsync("/readyz", Ct);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        var mongo = (await ready.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("checks").GetProperty("mongo");
        Assert.Equal("Unhealthy", mongo.GetProperty("status").GetString());

        // A replica of the same deployment started without MongoDB takes the sweeper's schedule away again.
        await using var without = App.ReplicaOf(app);
        await without.InitializeAsync();
        Assert.IsType<PostgresDocumentStore>(without.Services.GetRequiredService<IDocumentStore>());
        Assert.DoesNotContain(RecurringJobs(without), j => j.Id == SweepOrphanBodiesJob.Id);
    }

    [Fact]
    public async Task An_upload_is_processed_with_its_body_in_MongoDB_and_the_sweeper_keeps_it_but_removes_an_old_orphan()
    {
        if (Environment.GetEnvironmentVariable(Variable) is not { Length: > 0 } url)
        {
            Assert.Skip($"{Variable} is not set: this test needs a MongoDB server (e.g. mongodb://127.0.0.1:27017)");
            return;
        }
        await using var app = new App();
        await app.InitializeAsync();
        var database = "birbal_" + app.Prefix;
        app.WithStarterModel().With("Mongo:ConnectionString", url).With("Mongo:Database", database).With("Mongo:OrphanGraceMinutes", "5");
        try
        {
            var (client, _, _, _) = await Accounts.PersonAsync(app, BirbalAI.Contracts.Identity.Roles.Member);
            using var form = new MultipartFormDataContent();
            var file = new ByteArrayContent(Encoding.UTF8.GetBytes(StarterModels.Clean));
            file.Headers.ContentType = new MediaTypeHeaderValue("text/plain");
            form.Add(file, "file", "notes.txt");
            var response = await client.PostAsync("/api/documents", form, Ct);
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            var id = (await response.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("document").GetProperty("id").GetGuid();
            var status = "processing";
            await Eventually.TrueAsync(async () => (status = (await client.GetFromJsonAsync<JsonElement>($"/api/documents/{id}", Ct))
                .GetProperty("document").GetProperty("status").GetString()!) != "processing", "the document is processed", TimeSpan.FromSeconds(30));
            Assert.Equal("approved", status);

            // The body is in MongoDB (sealed), not in PostgreSQL.
            await using (var connection = await app.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync(Ct))
                Assert.Equal(0, await connection.ExecuteScalarAsync<long>("select count(*) from platform.documents"));
            var mongo = app.Services.GetRequiredService<IMongoClient>().GetDatabase(database).GetCollection<MongoDB.Bson.BsonDocument>(UploadDocument.Bodies);
            var stored = await mongo.Find(MongoDB.Bson.BsonDocument.Parse($"{{ _id: UUID('{id}') }}")).SingleAsync(Ct);
            Assert.DoesNotContain(StarterModels.Clean, stored.ToString());
            Assert.Contains("writtenAt", stored.Names);

            // Both bodies look old to the sweeper: the uploaded one has its committed row and stays, the orphan goes.
            var past = new PastClock(DateTimeOffset.UtcNow.AddMinutes(-6));
            var old = new MongoDocumentStore(app.Services.GetRequiredService<IMongoClient>(), app.Services.GetRequiredService<IOptions<MongoOptions>>(), past);
            var orphan = Guid.CreateVersion7();
            await old.PutAsync(UploadDocument.Bodies, orphan, await old.GetAsync<DocumentBody>(UploadDocument.Bodies, id, Ct) ?? throw new InvalidOperationException("no body"), null, null, Ct);
            await old.PutAsync(UploadDocument.Bodies, id, (await old.GetAsync<DocumentBody>(UploadDocument.Bodies, id, Ct))!, null, null, Ct);

            Assert.Equal(1, await app.Services.GetRequiredService<SweepOrphanBodiesJob>().RunAsync(Ct));
            var store = app.Services.GetRequiredService<IDocumentStore>();
            Assert.Null(await store.GetAsync<DocumentBody>(UploadDocument.Bodies, orphan, Ct));
            Assert.NotNull(await store.GetAsync<DocumentBody>(UploadDocument.Bodies, id, Ct));
        }
        finally
        {
            await app.Services.GetRequiredService<IMongoClient>().DropDatabaseAsync(database, Ct);
        }
    }

    sealed class PastClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
