using BirbalAI.Contracts.Identity;
using BirbalAI.Testing;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace BirbalAI.IntegrationTests.Operations;

/// <summary>The admin System page on a web process (no relay: what it writes to the outbox waits), then with a worker beside it.</summary>
public sealed class SystemPageTests : IAsyncLifetime
{
    readonly App web = new();
    App? worker;
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        await web.InitializeAsync();
        web.WithStarterModel().With("role", "web");
    }

    public async ValueTask DisposeAsync()
    {
        if (worker is not null) await worker.DisposeAsync();
        await web.DisposeAsync();
    }

    [Fact]
    public async Task Shows_versions_servers_instances_queues_outbox_lag_jobs_and_migrations()
    {
        var admin = await Accounts.SignedInAsync(web, Roles.Admin);
        await using (var connection = await web.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync(Ct))
            await connection.ExecuteAsync("""
                insert into platform.outbox (id, wire_name, payload, created_at) values
                    (gen_random_uuid(), 'sample.thing-happened.v1', '{}', now() - interval '5 minutes'),
                    (gen_random_uuid(), 'sample.thing-happened.v1', '{}', now() - interval '1 minute')
                """);

        var page = await admin.GetDocumentAsync("/admin/platform/system");

        Assert.False(string.IsNullOrWhiteSpace(page.QuerySelector("#version")!.TextContent));
        Assert.Equal("web", page.QuerySelector("#role")!.TextContent);
        Assert.Null(page.QuerySelector("#problems"));
        foreach (var server in new[] { "postgres", "redis", "rabbitmq" })
            Assert.Equal("Healthy", page.QuerySelector($"#health tr[data-server='{server}'] td:nth-child(2)")!.TextContent);
        var instance = Assert.Single(page.QuerySelectorAll("#instances tbody tr"));
        Assert.Contains("web", instance.QuerySelector("td:nth-child(2)")!.TextContent);
        Assert.Equal("v1", instance.QuerySelector("[data-fact=model]")!.TextContent);
        Assert.Equal("2", page.QuerySelector("#outbox-unpublished")!.TextContent);
        var lag = double.Parse(page.QuerySelector("#outbox-lag")!.TextContent.Replace(" s", ""), System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(lag, 299, 400);
        Assert.Equal("0", page.QuerySelector("#dead-letters")!.TextContent);
        Assert.Equal(
            [$"{web.Prefix}.annotation", $"{web.Prefix}.chat", $"{web.Prefix}.dead-letters", $"{web.Prefix}.documents", $"{web.Prefix}.ml", $"{web.Prefix}.unrouted"],
            page.QuerySelectorAll("#queues tbody tr").Select(r => r.GetAttribute("data-queue")!).Order(StringComparer.Ordinal));
        Assert.Equal("0", page.QuerySelector("#hangfire [data-state=servers]")!.TextContent);   // a web process runs no jobs
        var migrations = page.QuerySelector("#migrations-summary")!.TextContent;
        var expected = BirbalAI.Platform.Database.Migrator.Discover(web.Services.GetServices<BirbalAI.Platform.Database.MigrationSource>()).Count;
        Assert.Equal($"{expected} of {expected} migrations applied.", migrations);
        Assert.Contains(page.QuerySelectorAll("#migrations tbody tr"), r => r.GetAttribute("data-module") == "platform");

        // A worker beside it: it publishes the waiting events, and both instances are listed with their roles.
        worker = App.ReplicaOf(web);
        worker.WithStarterModel().With("role", "worker").With("Operations:SampleIntervalMs", "100");
        await worker.InitializeAsync();
        _ = worker.Services;
        AngleSharp.Html.Dom.IHtmlDocument after = null!;
        await Eventually.TrueAsync(async () =>
        {
            after = await admin.GetDocumentAsync("/admin/platform/system");
            return after.QuerySelector("#outbox-unpublished")!.TextContent == "0" && after.QuerySelectorAll("#instances tbody tr").Length == 2
                && after.QuerySelectorAll("#instances [data-fact=model]").Count(c => c.TextContent == "v1") == 2;   // the worker reports once its model is loaded
        }, "the worker published the outbox and reported itself");
        Assert.Equal(["web", "worker"], after.QuerySelectorAll("#instances tbody tr td:nth-child(2)").Select(c => c.TextContent).Order());
        Assert.Equal("0.0 s", after.QuerySelector("#outbox-lag")!.TextContent);
        Assert.Equal("1", after.QuerySelector("#hangfire [data-state=servers]")!.TextContent);
        Assert.Equal(2, after.QuerySelectorAll("#instances [data-fact=model]").Count(c => c.TextContent == "v1"));
    }
}
