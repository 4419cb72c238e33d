using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using BirbalAI.Contracts.Identity;
using BirbalAI.Contracts.Ml;
using BirbalAI.Testing;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace BirbalAI.IntegrationTests.Moderation;

/// <summary>
/// The policy: versioned, validated, audited, edited on a page and through the API, in force on every replica.
/// The replicas are shared by the class, so each test counts versions from the one in force when it starts.
/// </summary>
public sealed class PolicyTests(PolicyTests.Fixture fixture) : IClassFixture<PolicyTests.Fixture>
{
    /// <summary>Two instances of one deployment for the class.</summary>
    public sealed class Fixture : TwoReplicas
    {
        public override async ValueTask InitializeAsync()
        {
            await base.InitializeAsync();
            First.WithStarterModel();
            Second.WithStarterModel();
        }
    }

    App First => fixture.First;
    App Second => fixture.Second;

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    static async Task<int> VersionAsync(HttpClient client) =>
        (await client.GetFromJsonAsync<JsonElement>("/api/ml/policy", Ct)).GetProperty("version").GetInt32();

    static Dictionary<string, object> Thresholds(float review, float reject) =>
        BirbalAI.Ml.Categories.Default.ToDictionary(c => c, _ => (object)new { review, reject });

    [Fact]
    public async Task A_new_version_through_the_api_is_audited_and_used_by_every_replica()
    {
        var (admin, _, adminId) = await Accounts.WithApiKeyAsync(First, Roles.Admin);
        var moderator = Second.Services.GetRequiredService<IModerator>();
        Assert.Equal(ModerationAction.Reject, (await moderator.ModerateAsync(StarterModels.Threat, Ct)).Action);
        var version = await VersionAsync(admin);

        var response = await admin.PutAsJsonAsync("/api/ml/policy", new { thresholds = Thresholds(0.999f, 1f), note = "only the surest", expectedVersion = version }, Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var saved = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
        Assert.Equal(version + 1, saved.RootElement.GetProperty("version").GetInt32());
        await Eventually.TrueAsync(async () => (await moderator.ModerateAsync(StarterModels.Threat, Ct)).PolicyVersion == version + 1, $"the second replica uses version {version + 1}");
        var verdict = await moderator.ModerateAsync(StarterModels.Clean, Ct);
        Assert.All(verdict.Categories, c => Assert.Equal((0.999f, 1f), (c.ReviewThreshold, c.RejectThreshold)));
        await using var connection = await First.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync(Ct);
        var audit = await connection.QuerySingleAsync<(Guid Actor, string Subject, string Details)>(
            "select actor_id, subject, details::text from identity.audit_log where kind = 'ml.policy-changed' and actor_id = @adminId", new { adminId });
        Assert.Equal(adminId, audit.Actor);
        Assert.Equal($"policy v{version + 1}", audit.Subject);
        Assert.Contains("only the surest", audit.Details);
    }

    [Fact]
    public async Task Invalid_thresholds_are_refused_naming_each_problem_and_nothing_is_saved()
    {
        var (admin, _, _) = await Accounts.WithApiKeyAsync(First, Roles.Admin);
        var thresholds = Thresholds(0.5f, 0.9f);
        thresholds["hate"] = new { review = 0.9f, reject = 0.5f };
        thresholds["spam"] = new { review = 0.1f, reject = 0.2f };
        thresholds.Remove("violence");
        var version = await VersionAsync(admin);

        var response = await admin.PutAsJsonAsync("/api/ml/policy", new { thresholds }, Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync(Ct);
        Assert.Contains("hate: need 0 ≤ review ≤ reject ≤ 1", body);
        Assert.Contains("spam: not a category", body);
        Assert.Contains("violence: missing", body);
        Assert.Equal(version, await VersionAsync(admin));
    }

    [Fact]
    public async Task Saving_over_a_version_that_is_no_longer_in_force_is_a_409()
    {
        var (admin, _, _) = await Accounts.WithApiKeyAsync(First, Roles.Admin);
        var version = await VersionAsync(admin);
        Assert.Equal(HttpStatusCode.OK, (await admin.PutAsJsonAsync("/api/ml/policy", new { thresholds = Thresholds(0.6f, 0.9f), expectedVersion = version }, Ct)).StatusCode);

        var stale = await admin.PutAsJsonAsync("/api/ml/policy", new { thresholds = Thresholds(0.7f, 0.9f), expectedVersion = version }, Ct);

        Assert.Equal(HttpStatusCode.Conflict, stale.StatusCode);
        Assert.Contains($"version {version + 1} is in force", await stale.Content.ReadAsStringAsync(Ct));
    }

    [Fact]
    public async Task Annotators_read_the_policy_and_only_admins_change_it()
    {
        var (annotator, _, _) = await Accounts.WithApiKeyAsync(First, Roles.Annotator);

        Assert.Equal(HttpStatusCode.OK, (await annotator.GetAsync("/api/ml/policy", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await annotator.PutAsJsonAsync("/api/ml/policy", new { thresholds = Thresholds(0.5f, 0.9f) }, Ct)).StatusCode);
    }

    [Fact]
    public async Task The_policy_page_saves_a_version_and_shows_refusals_with_the_typed_values_kept()
    {
        var (reader, _, _) = await Accounts.WithApiKeyAsync(First, Roles.Annotator);
        var version = await VersionAsync(reader);
        var admin = await Accounts.SignedInAsync(First, Roles.Admin);
        var page = await admin.GetDocumentAsync("/admin/ml/policy");
        Assert.Equal(13, page.QuerySelectorAll("#policy tbody tr").Length);
        var index = BirbalAI.Ml.Categories.Default.ToList().IndexOf("hate");

        var bad = await admin.SubmitAsync(page, "#policy", new Dictionary<string, string> { [$"Rows[{index}].Review"] = "0.95", [$"Rows[{index}].Reject"] = "0.4" }, pageUrl: "/admin/ml/policy");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var refused = await HtmlForms.ParseAsync(bad);
        Assert.Contains("hate: need 0 ≤ review ≤ reject ≤ 1", refused.QuerySelector("[role=alert]")!.TextContent);
        Assert.Equal("0.95", refused.QuerySelector($"input[name='Rows[{index}].Review']")!.GetAttribute("value"));

        var good = await admin.SubmitAsync(page, "#policy", new Dictionary<string, string> { [$"Rows[{index}].Review"] = "0.4", ["Note"] = "stricter on hate" }, pageUrl: "/admin/ml/policy");
        Assert.Equal(HttpStatusCode.OK, good.StatusCode);
        var saved = await HtmlForms.ParseAsync(good);
        Assert.Contains($"Saved as version {version + 1}", saved.QuerySelector("#result")!.TextContent);
        Assert.Contains("stricter on hate", saved.QuerySelector($"#history tr[data-version='{version + 1}']")!.TextContent);
        Assert.Equal(0.4f, (await First.Services.GetRequiredService<IModerator>().ModerateAsync("hello there", Ct)).Categories.Single(c => c.Category == "hate").ReviewThreshold);
    }
}
