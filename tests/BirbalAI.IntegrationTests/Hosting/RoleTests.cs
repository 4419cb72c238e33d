using System.Net;
using BirbalAI.Contracts.Identity;
using BirbalAI.Workers;
using Hangfire;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace BirbalAI.IntegrationTests.Hosting;

public sealed class RoleTests(RoleTests.Fixture fixture) : IClassFixture<RoleTests.Fixture>, IAsyncLifetime
{
    /// <summary>The role "all" for the class: its tests only look; the other roles get an app per test.</summary>
    public sealed class Fixture : IAsyncLifetime
    {
        public App All { get; } = new();

        public async ValueTask InitializeAsync()
        {
            await All.InitializeAsync();
            All.With("role", "all");
        }

        public ValueTask DisposeAsync() => All.DisposeAsync();
    }

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
        var all = fixture.All;

        Assert.Equal(["BackgroundJobServerHostedService", "EventConsumers", "OutboxRelay"], BackgroundWork(all));
        Assert.Equal(HttpStatusCode.OK, (await all.CreateClient().GetAsync("/", TestContext.Current.CancellationToken)).StatusCode);
    }

    [Fact]
    public async Task The_Hangfire_dashboard_is_for_Admins_only()
    {
        var app = fixture.All;
        var anonymous = app.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

        var toSignIn = await anonymous.GetAsync("/hangfire", TestContext.Current.CancellationToken);
        var member = await (await Accounts.SignedInAsync(app, Roles.Member)).GetAsync("/hangfire", TestContext.Current.CancellationToken);
        var admin = await (await Accounts.SignedInAsync(app, Roles.Admin)).GetAsync("/hangfire", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Redirect, toSignIn.StatusCode);
        Assert.StartsWith("/account/sign-in", toSignIn.Headers.Location?.PathAndQuery);
        Assert.Equal(HttpStatusCode.Redirect, member.StatusCode);
        Assert.StartsWith("/account/denied", member.Headers.Location?.PathAndQuery);
        Assert.Equal(HttpStatusCode.OK, admin.StatusCode);
        Assert.Contains("Birbal AI jobs", await admin.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.NotNull(app.Services.GetService<JobStorage>());
    }
}
