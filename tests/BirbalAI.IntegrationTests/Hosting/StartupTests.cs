using System.Net;
using System.Text.Json;
using BirbalAI.Testing;
using Dapper;
using Npgsql;

namespace BirbalAI.IntegrationTests.Hosting;

/// <summary>The real executable: start-up refusals are one clear line, and web and worker processes run side by side.</summary>
public sealed class StartupTests : IAsyncLifetime
{
    readonly string prefix = TestServers.UniqueName();
    TestDatabase database = null!;

    public async ValueTask InitializeAsync() => database = await TestDatabase.CreateAsync();
    public ValueTask DisposeAsync() => database.DisposeAsync();

    static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_missing_setting_stops_start_up_with_one_line_naming_it()
    {
        var settings = AppProcess.Settings(database, prefix);
        settings.Remove("Database__ConnectionString");
        await using var app = AppProcess.Start(settings);

        Assert.Equal(2, await app.ExitCodeAsync(Patience));

        Assert.Equal("configuration error: Database:ConnectionString: The ConnectionString field is required.", app.Errors.Trim());
    }

    [Fact]
    public async Task Several_wrong_settings_are_all_named_on_the_one_line()
    {
        var settings = AppProcess.Settings(database, prefix);
        settings["RabbitMq__Uri"] = "http://not-amqp/";
        settings["Secrets__EncryptionKey"] = "short";
        await using var app = AppProcess.Start(settings);

        Assert.Equal(2, await app.ExitCodeAsync(Patience));

        var line = Assert.Single(app.Errors.Trim().Split('\n'));
        Assert.StartsWith("configuration error: ", line);
        Assert.Contains("RabbitMq:Uri: must be an amqp:// or amqps:// URI", line);
        Assert.Contains("Secrets:EncryptionKey:", line);
    }

    [Fact]
    public async Task Development_secrets_are_refused_in_production()
    {
        var settings = AppProcess.Settings(database, prefix);
        settings["Secrets__JwtSigningKey"] = "dev-0123456789abcdef0123456789abcdef0123";
        await using var app = AppProcess.Start(settings);

        Assert.Equal(2, await app.ExitCodeAsync(Patience));

        Assert.Equal("configuration error: Secrets:JwtSigningKey: is a development key; supply your own outside Development", app.Errors.Trim());
    }

    [Fact]
    public async Task An_unknown_role_is_refused()
    {
        await using var app = AppProcess.Start(AppProcess.Settings(database, prefix), "--role", "both");

        Assert.Equal(2, await app.ExitCodeAsync(Patience));

        Assert.Equal("start-up refused: role: 'both' is not a role; use --role all, web or worker.", app.Errors.Trim());
    }

    [Fact]
    public async Task Migrate_applies_the_migrations_and_exits_and_an_edited_one_stops_it()
    {
        await using var empty = await TestDatabase.CreateEmptyAsync();
        var settings = AppProcess.Settings(empty, prefix);

        await using (var first = AppProcess.Start(settings, "migrate"))
        {
            Assert.Equal(0, await first.ExitCodeAsync(Patience));
            Assert.Contains("migrate: applied 19: platform/0001_create_messaging, platform/0002_create_blobs, platform/0003_create_documents, identity/0001_create_identity, identity/0002_create_sessions, ml/0001_create_registry, ml/0002_create_policies, ml/0003_create_watched_words, ml/0004_model_kinds, ml/0005_create_datasets, ml/0006_create_training_jobs, ml/0007_create_rescoring, ml/0008_create_policy_drafts, chat/0001_create_chat, chat/0002_add_watched_words, annotation/0001_create_annotation, annotation/0002_create_imports, annotation/0003_add_import_attempts, documents/0001_create_documents", first.Output);
        }
        await using (var second = AppProcess.Start(settings, "migrate"))
        {
            Assert.Equal(0, await second.ExitCodeAsync(Patience));
            Assert.Contains("migrate: the database is up to date", second.Output);
        }

        await using (var connection = new NpgsqlConnection(empty.ConnectionString))
            await connection.ExecuteAsync("update platform.schema_migrations set checksum = 'edited0123456789'");
        await using var third = AppProcess.Start(settings, "migrate");

        Assert.Equal(2, await third.ExitCodeAsync(Patience));
        Assert.StartsWith("start-up refused: Migration platform/0001_create_messaging.sql was edited after it was applied", third.Errors.Trim());
    }

    [Fact]
    public async Task With_MigrateOnStart_false_start_up_and_verbs_are_refused_until_migrate_has_run()
    {
        await using var empty = await TestDatabase.CreateEmptyAsync();
        var port = AppProcess.FreePort();
        var settings = AppProcess.Settings(empty, prefix);
        settings["Database__MigrateOnStart"] = "false";
        settings["Listen__Web"] = $"http://127.0.0.1:{port}";
        const string refusal = "start-up refused: 19 migration(s) not applied yet (first: platform/0001_create_messaging) and " +
            "Database:MigrateOnStart is false: run `migrate` first (the Helm chart's migration job does).";

        await using (var verb = AppProcess.Start(settings, "ml", "list"))
        {
            Assert.Equal(2, await verb.ExitCodeAsync(Patience));
            Assert.Equal(refusal, verb.Errors.Trim());
        }
        await using (var early = AppProcess.Start(settings, "--role", "web"))
        {
            Assert.Equal(2, await early.ExitCodeAsync(Patience));
            Assert.Equal(refusal, early.Errors.Trim());
        }
        await using (var connection = new NpgsqlConnection(empty.ConnectionString))
            Assert.Null(await connection.ExecuteScalarAsync<string?>("select to_regclass('platform.schema_migrations')::text"));

        await using (var migrate = AppProcess.Start(settings, "migrate"))
            Assert.Equal(0, await migrate.ExitCodeAsync(Patience));
        await using var web = AppProcess.Start(settings, "--role", "web");
        using var http = new HttpClient();
        await Eventually.TrueAsync(async () =>
        {
            try { return (await http.GetAsync($"http://127.0.0.1:{port}/readyz")).StatusCode == HttpStatusCode.OK; }
            catch (HttpRequestException) { return false; }
        }, $"the web process is ready once migrated ({web.Errors})", Patience);
    }

    [Fact]
    public async Task A_web_and_a_worker_process_run_side_by_side_and_log_json_with_trace_ids()
    {
        int webPort = AppProcess.FreePort(), workerPort = AppProcess.FreePort();
        var settings = AppProcess.Settings(database, prefix);
        settings["Listen__Web"] = $"http://127.0.0.1:{webPort}";
        settings["Listen__Worker"] = $"http://127.0.0.1:{workerPort}";
        settings["Logging__LogLevel__Microsoft.AspNetCore.Hosting.Diagnostics"] = "Information";
        await using var web = AppProcess.Start(settings, "--role", "web");
        await using var worker = AppProcess.Start(settings, "--role", "worker");
        using var http = new HttpClient();

        foreach (var port in new[] { webPort, workerPort })
            await Eventually.TrueAsync(async () =>
            {
                try { return (await http.GetAsync($"http://127.0.0.1:{port}/readyz")).StatusCode == HttpStatusCode.OK; }
                catch (HttpRequestException) { return false; }
            }, $"port {port} is ready (web: {web.Errors} worker: {worker.Errors})", Patience);

        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"http://127.0.0.1:{webPort}/", TestContext.Current.CancellationToken)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync($"http://127.0.0.1:{workerPort}/", TestContext.Current.CancellationToken)).StatusCode);

        var response = await http.GetAsync($"http://127.0.0.1:{webPort}/api/nothing-here", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var traceId = JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken))
            .RootElement.GetProperty("traceId").GetString()!;

        // Production logs are JSON lines whose scopes carry the request's trace id.
        await Eventually.TrueAsync(() => Task.FromResult(web.Output.Contains(traceId, StringComparison.Ordinal)), "the request is logged");
        var line = web.Output.Split('\n').First(l => l.Contains(traceId, StringComparison.Ordinal) && l.Contains("Request starting", StringComparison.Ordinal));
        using var entry = JsonDocument.Parse(line);
        var scopes = entry.RootElement.GetProperty("Scopes").EnumerateArray();
        Assert.Contains(scopes, s => s.ValueKind == JsonValueKind.Object && s.TryGetProperty("TraceId", out var id) && id.GetString() == traceId);
    }
}
