using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using BirbalAI.Contracts.Identity;
using BirbalAI.Contracts.Ml;
using BirbalAI.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace BirbalAI.IntegrationTests.Moderation;

/// <summary>POST /api/moderation/check, IModerator for other modules, and the Try-it page.</summary>
public sealed class CheckModerationTests(CheckModerationTests.Fixture fixture) : IClassFixture<CheckModerationTests.Fixture>
{
    /// <summary>One app for the class, and one member's key: no test changes the policy or the models.</summary>
    public sealed class Fixture : IAsyncLifetime
    {
        public App App { get; } = new();
        public HttpClient Api { get; private set; } = null!;

        public async ValueTask InitializeAsync()
        {
            await App.InitializeAsync();
            App.WithStarterModel();
            (Api, _, _) = await Accounts.WithApiKeyAsync(App, Roles.Member);
        }

        public ValueTask DisposeAsync() => App.DisposeAsync();
    }

    readonly App app = fixture.App;
    readonly HttpClient api = fixture.Api;

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_threat_is_rejected_with_scores_thresholds_explanation_and_versions()
    {
        var response = await api.PostAsJsonAsync("/api/moderation/check", new { text = StarterModels.Threat }, Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
        var root = json.RootElement;
        Assert.Equal(1, root.GetProperty("model").GetProperty("number").GetInt32());
        Assert.Equal("birbal-v1", root.GetProperty("model").GetProperty("name").GetString());
        Assert.Equal(1, root.GetProperty("policyVersion").GetInt32());
        var result = Assert.Single(root.GetProperty("results").EnumerateArray());
        Assert.Equal("en", result.GetProperty("language").GetString());
        Assert.Equal("reject", result.GetProperty("action").GetString());
        Assert.Equal("rejected", result.GetProperty("status").GetString());
        var categories = result.GetProperty("categories").EnumerateArray().ToList();
        Assert.Equal(13, categories.Count);
        var worst = categories.First(c => c.GetProperty("action").GetString() == "reject");
        Assert.True(worst.GetProperty("score").GetSingle() >= worst.GetProperty("rejectThreshold").GetSingle());
        var explanation = worst.GetProperty("explanation").EnumerateArray().Select(e => e.GetProperty("ngram").GetString()!).ToList();
        Assert.NotEmpty(explanation);
        Assert.All(explanation, ngram => Assert.Contains(ngram.Trim('<', '>').Split(' ')[0], StarterModels.Threat.ToLowerInvariant()));
        Assert.All(categories.Where(c => c.GetProperty("action").GetString() == "approve"),
            c => Assert.Empty(c.GetProperty("explanation").EnumerateArray()));
    }

    [Fact]
    public async Task A_batch_gets_one_result_per_text_in_order()
    {
        var response = await api.PostAsJsonAsync("/api/moderation/check", new { texts = new[] { StarterModels.Clean, StarterModels.Threat } }, Ct);

        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
        Assert.Equal(["approve", "reject"], json.RootElement.GetProperty("results").EnumerateArray().Select(r => r.GetProperty("action").GetString()));
    }

    [Theory]
    [InlineData("""{}""", "Give either")]
    [InlineData("""{"text": "a", "texts": ["b"]}""", "Give either")]
    [InlineData("""{"texts": []}""", "Give at least one text.")]
    [InlineData("""{"texts": ["a", null]}""", "every item must be a string")]
    [InlineData("""{"text": 5}""", "does not match")]
    [InlineData("""[1, 2]""", "does not match")]
    public async Task Bad_requests_get_problem_details(string body, string detail)
    {
        var response = await api.PostAsync("/api/moderation/check", new StringContent(body, Encoding.UTF8, "application/json"), Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(detail, (await response.Content.ReadAsStringAsync(Ct)));
    }

    [Fact]
    public async Task An_unknown_model_version_is_a_404_problem()
    {
        var response = await api.PostAsJsonAsync("/api/moderation/check", new { text = "hello", model = "v99" }, Ct);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("does not exist", await response.Content.ReadAsStringAsync(Ct));
    }

    [Fact]
    public async Task Configured_limits_apply_and_say_which_setting_to_change()
    {
        await using var strict = App.ReplicaOf(app);
        strict.With("Ml:Limits:MaxInputs", "2").With("Ml:Limits:MaxInputChars", "10").With("Ml:Limits:MaxRequestBytes", "2048");
        var (client, _, _) = await Accounts.WithApiKeyAsync(strict, Roles.Member);

        var many = await client.PostAsJsonAsync("/api/moderation/check", new { texts = new[] { "a", "b", "c" } }, Ct);
        var longer = await client.PostAsJsonAsync("/api/moderation/check", new { text = "eleven char" }, Ct);
        var bigger = await client.PostAsJsonAsync("/api/moderation/check", new { text = new string('a', 3000) }, Ct);

        Assert.Equal(HttpStatusCode.BadRequest, many.StatusCode);
        Assert.Contains("Ml:Limits:MaxInputs", await many.Content.ReadAsStringAsync(Ct));
        Assert.Equal(HttpStatusCode.BadRequest, longer.StatusCode);
        Assert.Contains("Ml:Limits:MaxInputChars", await longer.Content.ReadAsStringAsync(Ct));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, bigger.StatusCode);
        Assert.Contains("Ml:Limits:MaxRequestBytes", await bigger.Content.ReadAsStringAsync(Ct));
    }

    [Fact]
    public async Task Without_a_key_the_api_answers_401()
    {
        var response = await app.CreateClient().PostAsJsonAsync("/api/moderation/check", new { text = "hello" }, Ct);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Other_modules_moderate_through_the_contract()
    {
        var moderator = app.Services.GetRequiredService<IModerator>();

        var verdict = await moderator.ModerateAsync(StarterModels.Clean, Ct);

        Assert.Equal(ModerationAction.Approve, verdict.Action);
        Assert.Equal("approved", verdict.Action.ToContentStatus());
        Assert.False(verdict.Flagged);
        Assert.Equal(13, verdict.Scores.Count);
    }

    [Fact]
    public async Task The_try_it_page_shows_language_scores_thresholds_verdict_and_explanation()
    {
        var annotator = await Accounts.SignedInAsync(app, Roles.Annotator);
        var page = await annotator.GetDocumentAsync("/admin/ml/try");

        var response = await annotator.SubmitAsync(page, "#try", new Dictionary<string, string> { ["Text"] = StarterModels.Threat }, pageUrl: "/admin/ml/try");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var result = await HtmlForms.ParseAsync(response);
        Assert.Equal("reject", result.QuerySelector("#verdict .verdict")!.TextContent);
        Assert.Equal("en", result.QuerySelector("#language")!.TextContent);
        Assert.Equal(13, result.QuerySelectorAll("#scores tbody tr").Length);
        var rejected = result.QuerySelector("#scores tr[data-action='reject']")!;
        Assert.NotEmpty(rejected.QuerySelector(".explanation")!.TextContent.Trim());
        Assert.NotNull(rejected.QuerySelector(".bar .mark.review"));
    }

    [Fact]
    public async Task The_try_it_page_refuses_an_empty_text_with_a_message()
    {
        var annotator = await Accounts.SignedInAsync(app, Roles.Annotator);
        var page = await annotator.GetDocumentAsync("/admin/ml/try");

        var response = await annotator.SubmitAsync(page, "#try", new Dictionary<string, string> { ["Text"] = "" }, pageUrl: "/admin/ml/try");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("Paste a text to moderate.", (await HtmlForms.ParseAsync(response)).QuerySelector("[role=alert]")!.TextContent);
    }
}
