using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using BirbalAI.Contracts.Identity;
using BirbalAI.IntegrationTests.Hosting;
using BirbalAI.Ml.Registry;
using BirbalAI.Ml.Training;
using BirbalAI.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace BirbalAI.IntegrationTests.Moderation;

/// <summary>Promoting a version swaps every replica to it while requests keep flowing, and none fails.</summary>
public sealed class HotSwapTests : TwoReplicas
{
    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        // The load below is far above one key's default rate limit; the swap, not the limit, is under test.
        First.WithStarterModel().With("Identity:ApiPerClientLimit", "1000000");
        Second.WithStarterModel().With("Identity:ApiPerClientLimit", "1000000");
    }

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Both_replicas_swap_to_the_promoted_version_under_load_without_a_failed_request()
    {
        var (admin, _, _) = await Accounts.WithApiKeyAsync(First, Roles.Admin);
        var (_, key, _) = await Accounts.WithApiKeyAsync(First, Roles.Member);
        // v1 is the tests' n-gram fixture, v2 the starter ensemble: a swap between kinds.
        var v2 = await First.Services.GetRequiredService<ModelRegistry>().RegisterAsync(ModelPackage.Read(StarterModels.Directory), Ct);
        var clients = new[] { First, Second }.Select(app =>
        {
            var client = app.CreateClient();
            client.DefaultRequestHeaders.Authorization = new("Bearer", key);
            return client;
        }).ToArray();

        using var stop = new CancellationTokenSource();
        var seen = new System.Collections.Concurrent.ConcurrentBag<(int Replica, string Model)>();
        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
        var load = Enumerable.Range(0, 8).Select(worker => Task.Run(async () =>
        {
            var replica = worker % 2;
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    var response = await clients[replica].PostAsJsonAsync("/v1/moderations", new { input = $"request {worker} {StarterModels.Clean}" }, CancellationToken.None);
                    var body = await response.Content.ReadAsStringAsync(CancellationToken.None);
                    if (response.StatusCode != HttpStatusCode.OK) { failures.Add($"{(int)response.StatusCode} {body}"); continue; }
                    seen.Add((replica, JsonDocument.Parse(body).RootElement.GetProperty("model").GetString()!));
                }
                catch (Exception e) { failures.Add(e.ToString()); }
            }
        })).ToArray();

        // The load stops however the test ends: a failed wait must not leave eight loops spinning on disposed apps.
        try
        {
            await Eventually.TrueAsync(() => Task.FromResult(seen.Count(s => s.Model == "birbal-v1") > 20), "load is flowing on v1");
            var promoted = await admin.PostAsync($"/api/ml/models/{v2.Number}/promote", null, Ct);
            Assert.Equal(HttpStatusCode.OK, promoted.StatusCode);
            await Eventually.TrueAsync(() => Task.FromResult(
                seen.Any(s => s.Replica == 0 && s.Model == "birbal-v2") && seen.Any(s => s.Replica == 1 && s.Model == "birbal-v2")),
                $"both replicas serve v2 (seen: {string.Join(", ", seen.GroupBy(s => s).Select(g => $"{g.Key}×{g.Count()}"))}; failures: {string.Join("; ", failures.Take(2))})");
            var before = seen.Count;
            await Eventually.TrueAsync(() => Task.FromResult(seen.Count > before + 20), $"load keeps flowing on v2 (failures: {string.Join("; ", failures.Take(3))})");
        }
        finally
        {
            stop.Cancel();
            await Task.WhenAll(load);
        }

        Assert.Empty(failures);
        foreach (var app in new[] { First, Second })
            Assert.Equal(2, app.Services.GetRequiredService<BirbalAI.Ml.Serving.ModelCatalog>().Production!.Number);
    }

    [Fact]
    public async Task Promoting_an_unknown_version_is_a_404_and_members_may_not_promote()
    {
        var (admin, _, _) = await Accounts.WithApiKeyAsync(First, Roles.Admin);
        var (member, _, _) = await Accounts.WithApiKeyAsync(First, Roles.Member);

        Assert.Equal(HttpStatusCode.NotFound, (await admin.PostAsync("/api/ml/models/v42/promote", null, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await member.PostAsync("/api/ml/models/1/promote", null, Ct)).StatusCode);
        var list = await admin.GetFromJsonAsync<JsonElement>("/api/ml/models", Ct);
        var only = Assert.Single(list.EnumerateArray());
        Assert.True(only.GetProperty("production").GetBoolean());
        Assert.True(only.GetProperty("loaded").GetBoolean());
    }

    [Fact]
    public async Task The_cli_promotes_a_version_and_the_running_replicas_follow()
    {
        // v1 is the tests' n-gram fixture, v2 the starter ensemble: a swap between kinds.
        var v2 = await First.Services.GetRequiredService<ModelRegistry>().RegisterAsync(ModelPackage.Read(StarterModels.Directory), Ct);
        _ = Second.Services;   // running, on v1

        await using var cli = AppProcess.Start(AppProcess.Settings(First.Database, First.Prefix), "ml", "promote", "v2");

        Assert.True(await cli.ExitCodeAsync(TimeSpan.FromSeconds(120)) == 0, cli.Errors);
        Assert.Contains($"ml promote: v2 ({v2.Id}) is production", cli.Output);
        foreach (var app in new[] { First, Second })
            await Eventually.TrueAsync(() => Task.FromResult(app.Services.GetRequiredService<BirbalAI.Ml.Serving.ModelCatalog>().Production?.Number == 2),
                "the replica follows the promotion");
    }
}
