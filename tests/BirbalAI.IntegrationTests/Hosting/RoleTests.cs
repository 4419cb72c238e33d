using System.Net;
using BirbalAI.Workers;
using Hangfire;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace BirbalAI.IntegrationTests.Hosting;

public sealed class RoleTests : IAsyncLifetime
{
    readonly List<App> apps = [];

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        foreach (var app in apps) await app.DisposeAsync();
    }

    async Task<App> StartAsync(string role)
    {
        var app = new App();
        apps.Add(app);
        await app.InitializeAsync();
        app.With("role", role);
        return app;
    }

    static string[] BackgroundWork(App app) => app.Services.GetServices<IHostedService>()
        .Select(s => s.GetType().Name)
        .Where(n => n is nameof(OutboxRelay) or nameof(EventConsumers) || n.Contains("BackgroundJobServer", StringComparison.Ordinal))
        .Order().ToArray();

    [Fact]
    public async Task A_worker_runs_the_background_work_and_serves_only_health_and_metrics()
    {
        var worker = await StartAsync("worker");
        var client = worker.CreateClient();

        Assert.Equal(["BackgroundJobServerHostedService", "EventConsumers", "OutboxRelay"], BackgroundWork(worker));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/readyz", TestContext.Current.CancellationToken)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/metrics", TestContext.Current.CancellationToken)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/", TestContext.Current.CancellationToken)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/openapi/v1.json", TestContext.Current.CancellationToken)).StatusCode);
    }

    [Fact]
    public async Task A_web_process_serves_pages_and_runs_no_background_work()
    {
        var web = await StartAsync("web");
        var client = web.CreateClient();

        Assert.Empty(BackgroundWork(web));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/", TestContext.Current.CancellationToken)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/openapi/v1.json", TestContext.Current.CancellationToken)).StatusCode);
    }

    [Fact]
    public async Task All_does_both()
    {
        var all = await StartAsync("all");

        Assert.Equal(["BackgroundJobServerHostedService", "EventConsumers", "OutboxRelay"], BackgroundWork(all));
        Assert.Equal(HttpStatusCode.OK, (await all.CreateClient().GetAsync("/", TestContext.Current.CancellationToken)).StatusCode);
    }

    [Fact]
    public async Task The_Hangfire_dashboard_is_not_mapped_outside_Development()
    {
        var testing = await StartAsync("all");
        var development = await StartAsync("all");
        development.EnvironmentName = "Development";

        Assert.Equal(HttpStatusCode.NotFound, (await testing.CreateClient().GetAsync("/hangfire", TestContext.Current.CancellationToken)).StatusCode);
        // In Development it exists, behind Hangfire's local-requests-only filter (the test server has no remote address).
        Assert.NotEqual(HttpStatusCode.NotFound, (await development.CreateClient().GetAsync("/hangfire", TestContext.Current.CancellationToken)).StatusCode);
        Assert.NotNull(development.Services.GetService<JobStorage>());
    }
}
