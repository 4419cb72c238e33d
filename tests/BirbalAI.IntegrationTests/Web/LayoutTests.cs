using System.Net;
using AngleSharp.Dom;
using BirbalAI.Contracts.Identity;
using BirbalAI.Platform.Web;
using BirbalAI.Testing;

namespace BirbalAI.IntegrationTests.Web;

/// <summary>The one layout renders Platform's admin-navigation registry: each link only for those its policy admits.</summary>
public sealed class LayoutTests(LayoutTests.Fixture fixture) : IClassFixture<LayoutTests.Fixture>
{
    /// <summary>One app for the class, with two sample links registered: the tests only read pages, each as its own people.</summary>
    public sealed class Fixture : IAsyncLifetime
    {
        public App App { get; } = new();

        public async ValueTask InitializeAsync()
        {
            await App.InitializeAsync();
            App.WithServices(services =>
            {
                services.AddAdminLink("Sample jobs", "/sample/jobs", policy: Policies.Admin, order: 20);
                services.AddAdminLink("Sample help", "/sample/help", policy: null, order: 10);
            });
        }

        public ValueTask DisposeAsync() => App.DisposeAsync();
    }

    readonly App app = fixture.App;

    static string[] AdminLinks(IParentNode page) =>
        page.QuerySelectorAll("nav[aria-label='Admin portal'] a").Select(a => $"{a.TextContent} {a.GetAttribute("href")}").ToArray();

    [Fact]
    public async Task The_home_page_renders_in_the_layout()
    {
        var client = app.CreateClient();

        var response = await client.GetAsync("/", TestContext.Current.CancellationToken);
        var page = await HtmlForms.ParseAsync(response);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Home · Birbal AI", page.Title);
        Assert.NotNull(page.QuerySelector("a.skip[href='#main']"));
        Assert.Equal("Birbal AI", page.QuerySelector("main h1")?.TextContent);
        Assert.Contains("Testing", page.QuerySelector("dl.facts")?.TextContent);
    }

    [Fact]
    public async Task Links_appear_in_order_and_only_for_users_their_policy_admits()
    {
        var anonymous = await app.CreateClient().GetDocumentAsync("/");
        Assert.Equal(["Sample help /sample/help", "API reference /swagger"], AdminLinks(anonymous));

        var member = await Accounts.SignedInAsync(app, Roles.Member);
        Assert.Equal(["Chat /chat", "Sample help /sample/help", "Documents /documents", "API reference /swagger"], AdminLinks(await member.GetDocumentAsync("/")));

        var annotator = await Accounts.SignedInAsync(app, Roles.Annotator);
        Assert.Equal(["Chat /chat", "Sample help /sample/help", "Documents /documents", "Review /annotation", "Datasets /admin/ml/datasets", "Try it /admin/ml/try", "API reference /swagger"], AdminLinks(await annotator.GetDocumentAsync("/")));

        var admin = await Accounts.SignedInAsync(app, Roles.Admin);
        Assert.Equal(
        [
            "Chat /chat", "Sample help /sample/help", "Documents /documents", "Review /annotation", "Sample jobs /sample/jobs", "Users /admin/identity/users", "API keys /admin/identity/api-keys",
            "Audit /admin/identity/audit", "Models /admin/ml/models", "Datasets /admin/ml/datasets", "Training /admin/ml/training", "Re-scoring /admin/ml/rescoring", "Policy /admin/ml/policy", "Watched words /admin/ml/watched-words", "Try it /admin/ml/try", "Jobs /hangfire", "Dead letters /admin/platform/dead-letters",
            "System /admin/platform/system",
            "API reference /swagger",
        ], AdminLinks(await admin.GetDocumentAsync("/")));
    }

    [Fact]
    public async Task A_missing_page_gets_the_error_page_in_the_layout()
    {
        var response = await app.CreateClient().GetAsync("/no/such/page", TestContext.Current.CancellationToken);
        var page = await HtmlForms.ParseAsync(response);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("Page not found", page.QuerySelector("main h1")?.TextContent);
    }
}
