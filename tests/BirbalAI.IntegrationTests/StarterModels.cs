using BirbalAI.IntegrationTests.Hosting;
using BirbalAI.Ml.Starter;
using BirbalAI.Ml.Text;

namespace BirbalAI.IntegrationTests;

/// <summary>The starter model for tests that moderate: from the cache `make test` fills, trained once here when it is empty.</summary>
public static class StarterModels
{
    static readonly Lazy<string> Cached = new(() => StarterModel.Ensure(Path.Combine(AppProcess.RepoRoot, ".local", "models"), new LanguageDetection()));

    public static string Directory => Cached.Value;

    /// <summary>
    /// Registers a model as v1 production when <paramref name="app"/> starts: the tests' own <see cref="FixtureModel"/>,
    /// which is sure of <see cref="Clean"/> and <see cref="Threat"/> whatever the starter model learns.
    /// </summary>
    public static App WithStarterModel(this App app) => (App)app.With("Ml:StarterModelDirectory", FixtureModel.Directory);

    /// <summary>
    /// Saves a policy that holds from 0.5 and never rejects: the fixture model is sure of its verdicts (scores near 1),
    /// so tests that need a held message turn its rejections into reviews.
    /// </summary>
    public static async Task HoldNeverRejectAsync(App app)
    {
        var (admin, _, _) = await Accounts.WithApiKeyAsync(app, BirbalAI.Contracts.Identity.Roles.Admin);
        var thresholds = BirbalAI.Ml.Categories.Default.ToDictionary(c => c, _ => new { review = 0.5f, reject = 1f });
        var response = await System.Net.Http.Json.HttpClientJsonExtensions.PutAsJsonAsync(admin, "/api/ml/policy", new { thresholds });
        response.EnsureSuccessStatusCode();
    }

    // Texts the fixture model is sure about: one clean, one it rejects.
    public const string Clean = FixtureModel.Clean;
    public const string Threat = FixtureModel.Threat;
}
