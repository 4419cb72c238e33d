using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using BirbalAI.Contracts.Identity;
using BirbalAI.Testing;

namespace BirbalAI.IntegrationTests.Moderation;

/// <summary>
/// The starter ensemble in production: every path reports, for a category that is not approved, each component's
/// score and the one that drove it; a language the encoder does not read is the n-gram model's alone. A policy that
/// reviews from 0.0001 makes nearly every category "not approved", so little here depends on what the model is sure of.
/// </summary>
public sealed class EnsembleModerationTests(EnsembleModerationTests.Fixture fixture) : IClassFixture<EnsembleModerationTests.Fixture>
{
    /// <summary>One app for the class with the starter ensemble and the policy above, saved once: the tests only read.</summary>
    public sealed class Fixture : IAsyncLifetime
    {
        public App App { get; } = new();
        public HttpClient Admin { get; private set; } = null!;

        public async ValueTask InitializeAsync()
        {
            await App.InitializeAsync();
            App.With("Ml:StarterModelDirectory", StarterModels.Directory);
            (Admin, _, _) = await Accounts.WithApiKeyAsync(App, Roles.Admin);
            var thresholds = BirbalAI.Ml.Categories.Default.ToDictionary(c => c, _ => new { review = 0.0001f, reject = 1f });
            (await Admin.PutAsJsonAsync("/api/ml/policy", new { thresholds })).EnsureSuccessStatusCode();
        }

        public ValueTask DisposeAsync() => App.DisposeAsync();
    }

    readonly App app = fixture.App;
    readonly HttpClient admin = fixture.Admin;

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task An_english_text_reports_both_components_and_the_one_that_drove_each_score()
    {
        var response = await admin.PostAsJsonAsync("/api/moderation/check", new { text = "you are a disgusting piece of trash and nobody here wants you around" }, Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
        var result = Assert.Single(json.RootElement.GetProperty("results").EnumerateArray());
        Assert.Equal("en", result.GetProperty("language").GetString());
        var reviewed = result.GetProperty("categories").EnumerateArray().Where(c => c.GetProperty("action").GetString() != "approve").ToList();
        Assert.True(reviewed.Count >= 10, $"{reviewed.Count} categories over 0.0001");
        foreach (var category in reviewed)
        {
            var components = category.GetProperty("components").EnumerateArray()
                .ToDictionary(c => c.GetProperty("component").GetString()!, c => c.GetProperty("score").GetSingle());
            Assert.Equal(["ngram", "encoder"], components.Keys);
            Assert.Contains(category.GetProperty("drivenBy").GetString(), new[] { "ngram", "encoder" });
        }
        var harassment = result.GetProperty("categories").EnumerateArray().Single(c => c.GetProperty("name").GetString() == "harassment");
        Assert.Equal("review", harassment.GetProperty("action").GetString());
    }

    [Fact]
    public async Task A_text_in_a_language_the_encoder_does_not_read_is_scored_by_the_n_gram_model_alone()
    {
        var response = await admin.PostAsJsonAsync("/api/moderation/check", new { text = "والله لو شفتك بالشارع لأكسر راسك يا حقير" }, Ct);

        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
        var result = Assert.Single(json.RootElement.GetProperty("results").EnumerateArray());
        Assert.Equal("ar", result.GetProperty("language").GetString());
        var reviewed = result.GetProperty("categories").EnumerateArray().Where(c => c.GetProperty("action").GetString() != "approve").ToList();
        Assert.True(reviewed.Count >= 5, $"{reviewed.Count} categories over 0.0001");
        foreach (var category in reviewed)
        {
            var ngram = Assert.Single(category.GetProperty("components").EnumerateArray());
            Assert.Equal("ngram", ngram.GetProperty("component").GetString());
            Assert.Equal(ngram.GetProperty("score").GetSingle(), category.GetProperty("score").GetSingle());
            Assert.Equal("ngram", category.GetProperty("drivenBy").GetString());
        }
    }

    [Fact]
    public async Task The_models_page_shows_the_ensembles_components_and_per_language_metrics_and_try_it_names_the_driver()
    {
        var browser = await Accounts.SignedInAsync(app, Roles.Admin);

        var models = await browser.GetDocumentAsync("/admin/ml/models");
        Assert.Equal("ensemble", models.QuerySelector("#versions tr[data-version='1'] .kind")!.TextContent);
        Assert.NotNull(models.QuerySelector("#component-metrics tr[data-component='ngram']"));
        var encoder = models.QuerySelector("#component-metrics tr[data-component='encoder']")!;
        Assert.Contains("all-MiniLM-L6-v2", encoder.TextContent);
        Assert.NotEqual("—", encoder.QuerySelector("td[data-language='en']")!.TextContent);
        Assert.Equal("—", encoder.QuerySelector("td[data-language='ar']")!.TextContent);   // the encoder does not read Arabic
        Assert.NotEqual("—", models.QuerySelector("#component-metrics tr[data-component='ngram'] td[data-language='ar']")!.TextContent);

        var page = await browser.GetDocumentAsync("/admin/ml/try");
        var response = await browser.SubmitAsync(page, "#try", new Dictionary<string, string> { ["Text"] = "i will find you after school and hurt you" }, pageUrl: "/admin/ml/try");
        var result = await HtmlForms.ParseAsync(response);
        var row = result.QuerySelector("#scores tr[data-category='harassment/threatening']")!;
        Assert.Contains(row.QuerySelector(".driver")!.GetAttribute("data-driver"), new[] { "ngram", "encoder" });
        Assert.Contains("encoder", row.QuerySelector(".driver .components")!.TextContent);
    }
}
