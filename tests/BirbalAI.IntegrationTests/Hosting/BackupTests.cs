using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using BirbalAI.Contracts.Identity;
using BirbalAI.Testing;
using Dapper;
using Npgsql;

namespace BirbalAI.IntegrationTests.Hosting;

/// <summary>`backup` of a running installation, `restore` into an empty database: everything is there again.</summary>
public sealed class BackupTests : IClassFixture<App>, IAsyncLifetime
{
    static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);
    static CancellationToken Ct => TestContext.Current.CancellationToken;
    readonly App app;
    readonly string archive = Path.Combine(Path.GetTempPath(), $"birbal-backup-{Guid.NewGuid():N}.tar");
    // The model's blobs on a disk store, so the archive carries blobs too (a PostgreSQL store's are in the dump).
    readonly string diskBlobs = Directory.CreateTempSubdirectory("birbal-blobs-").FullName;
    readonly string restoredBlobs = Directory.CreateTempSubdirectory("birbal-restored-blobs-").FullName;

    public BackupTests(App app) => this.app = (App)app.WithStarterModel().With("Blobs:Store", "disk").With("Blobs:Directory", diskBlobs);

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public ValueTask DisposeAsync()
    {
        File.Delete(archive);
        Directory.Delete(restoredBlobs, recursive: true);
        Directory.Delete(diskBlobs, recursive: true);
        return ValueTask.CompletedTask;
    }

    // What a restore must bring back: people, keys, rooms and messages, model versions and their blobs, the production
    // pointer, every policy version and watched word, the migration history, Hangfire's schema, documents with their
    // chunks and bodies, labelled examples and dataset snapshots.
    const string ContentSql = """
        select (select count(*) from identity.users) as users,
               (select count(*) from identity.api_keys) as keys,
               (select count(*) from chat.rooms) as rooms,
               (select string_agg(text || ':' || status, '|' order by posted_at) from chat.messages) as messages,
               (select string_agg(id::text, '|' order by number) from ml.model_versions) as versions,
               (select count(*) from platform.blobs) as blobs,
               (select version_id::text from ml.production) as production,
               (select string_agg(version::text || ':' || thresholds::text, '|' order by version) from ml.policies) as policies,
               (select count(*) from platform.schema_migrations) as migrations,
               (select count(*) from information_schema.tables where table_schema = 'hangfire') as hangfire_tables,
               (select string_agg(title || ':' || status, '|' order by title) from documents.documents) as documents,
               (select count(*) from documents.chunks) as chunks,
               (select count(*) from platform.documents) as document_bodies,
               (select string_agg(text || ':' || categories::text, '|' order by text) from ml.examples) as labelled_examples,
               (select string_agg(number || ':' || examples || ':' || blob_hash, '|' order by number) from ml.snapshots) as snapshots
        """;

    static async Task<IDictionary<string, object?>> ContentAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        return (IDictionary<string, object?>)await connection.QuerySingleAsync(ContentSql);
    }

    static string Lines(IDictionary<string, object?> content) => string.Join("\n", content.Select(c => $"{c.Key}={c.Value}"));

    [Fact]
    public async Task A_backup_restored_into_an_empty_database_has_every_user_message_model_version_and_the_policy()
    {
        var owner = await Accounts.PersonAsync(app, Roles.Member);
        var created = await owner.Api.PostAsJsonAsync("/api/chat/rooms", new { name = "backed up", isPrivate = false }, Ct);
        var room = (await created.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetGuid();
        Assert.Equal(HttpStatusCode.Created, (await owner.Api.PostAsJsonAsync($"/api/chat/rooms/{room}/messages", new { text = StarterModels.Clean }, Ct)).StatusCode);
        await StarterModels.HoldNeverRejectAsync(app);   // a second policy version
        Assert.Equal(HttpStatusCode.Created, (await owner.Api.PostAsJsonAsync($"/api/chat/rooms/{room}/messages", new { text = StarterModels.Threat }, Ct)).StatusCode);
        // A document (processed), labelled examples and a dataset snapshot of them.
        using (var form = new MultipartFormDataContent())
        {
            form.Add(new ByteArrayContent("Notes from the allotment meeting.\n\nThe new shed arrives on Tuesday."u8.ToArray()), "file", "notes.txt");
            Assert.Equal(HttpStatusCode.Created, (await owner.Api.PostAsync("/api/documents", form, Ct)).StatusCode);
        }
        var (admin, _, _) = await Accounts.WithApiKeyAsync(app, Roles.Admin);
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync("/api/ml/datasets/import?format=jsonl&name=backup",
            new StringContent(Ml.TrainingJobTests.Data("backup", 1)), Ct)).StatusCode);
        Assert.True((await admin.PostAsync("/api/ml/datasets/snapshots", null, Ct)).IsSuccessStatusCode);
        await Eventually.TrueAsync(async () =>
        {
            await using var connection = new NpgsqlConnection(app.Database.ConnectionString);
            return await connection.ExecuteScalarAsync<long>("select count(*) from documents.documents where status <> 'processing'") == 1;
        }, "the document was processed", TimeSpan.FromSeconds(60));
        var before = await ContentAsync(app.Database.ConnectionString);
        Assert.Contains(":approved", (string)before["documents"]!);
        Assert.True((long)before["document_bodies"]! == 1 && (long)before["chunks"]! >= 1);
        Assert.NotNull(before["labelled_examples"]);
        Assert.NotNull(before["snapshots"]);
        Assert.Equal(1L, before["rooms"]);
        Assert.Contains(":held", (string)before["messages"]!);
        Assert.NotNull(before["production"]);
        Assert.True((long)before["hangfire_tables"]! > 0, "Hangfire's schema exists (the app runs its server)");

        var blobs = Directory.GetFiles(diskBlobs, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(diskBlobs, f)).Order().ToList();
        Assert.NotEmpty(blobs);
        var settings = AppProcess.Settings(app.Database, app.Prefix);
        settings["Blobs__Store"] = "disk";
        settings["Blobs__Directory"] = diskBlobs;
        await using (var backup = AppProcess.Start(settings, "backup", "--out", archive))
        {
            Assert.True(await backup.ExitCodeAsync(Patience) == 0, backup.Errors);
            Assert.StartsWith($"backup: schemas annotation, chat, documents, hangfire, identity, ml, platform; 19 migrations; {blobs.Count} disk blob(s) → ", backup.Output.Trim());
        }

        await using var empty = await TestDatabase.CreateEmptyAsync();
        var restored = AppProcess.Settings(empty, app.Prefix);
        restored["Blobs__Store"] = "disk";
        restored["Blobs__Directory"] = restoredBlobs;
        await using (var restore = AppProcess.Start(restored, "restore", "--from", archive))
        {
            Assert.True(await restore.ExitCodeAsync(Patience) == 0, restore.Errors);
            Assert.StartsWith("restore: schemas annotation, chat, documents, hangfire, identity, ml, platform from ", restore.Output.Trim());
        }
        Assert.Equal(Lines(before), Lines(await ContentAsync(empty.ConnectionString)));
        Assert.Equal(blobs, Directory.GetFiles(restoredBlobs, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(restoredBlobs, f)).Order());
        foreach (var blob in blobs)
            Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(diskBlobs, blob), Ct), await File.ReadAllBytesAsync(Path.Combine(restoredBlobs, blob), Ct));

        // The restored installation runs: it is up to date (nothing to migrate) and its people sign in.
        await using (var migrate = AppProcess.Start(restored, "migrate"))
        {
            Assert.Equal(0, await migrate.ExitCodeAsync(Patience));
            Assert.Contains("migrate: the database is up to date", migrate.Output);
        }
        await using (var key = AppProcess.Start(restored, "apikey", "create", "--user", owner.Email, "--name", "after restore", "--role", "Member"))
            Assert.True(await key.ExitCodeAsync(Patience) == 0, key.Errors);

        // Never over an installation: a restore needs an empty database.
        await using var again = AppProcess.Start(restored, "restore", "--from", archive);
        Assert.Equal(2, await again.ExitCodeAsync(Patience));
        Assert.Equal("restore refused: the database is not empty (schemas annotation, chat, documents, hangfire, identity, ml, platform); restore into a new, empty database", again.Errors.Trim());
    }
}
