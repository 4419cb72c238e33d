using System.Net;
using System.Security.Claims;
using AngleSharp.Dom;
using BirbalAI.Platform.Web;
using BirbalAI.Testing;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.DependencyInjection;

namespace BirbalAI.IntegrationTests.Web;

/// <summary>The one layout renders Platform's admin-navigation registry: each link only for those its policy admits.</summary>
public sealed class LayoutTests : IAsyncLifetime
{
    readonly App app = new();

    public async ValueTask InitializeAsync()
    {
        await app.InitializeAsync();
        app.WithServices(services =>
        {
            services.AddAdminLink("Sample jobs", "/sample/jobs", policy: "SampleAdmins", order: 20);
            services.AddAdminLink("Sample help", "/sample/help", policy: null, order: 10);
            services.AddAuthorizationBuilder().AddPolicy("SampleAdmins", p => p.RequireRole("Admin"));
            // Identity arrives in a later module; a header stands in for a signed-in Admin here.
            services.AddAuthentication("Header").AddScheme<AuthenticationSchemeOptions, HeaderAuthentication>("Header", _ => { });
        });
    }

    public ValueTask DisposeAsync() => app.DisposeAsync();

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

        var admin = app.CreateClient();
        admin.DefaultRequestHeaders.Add("X-Test-Role", "Admin");
        Assert.Equal(["Sample help /sample/help", "Sample jobs /sample/jobs", "API reference /swagger"], AdminLinks(await admin.GetDocumentAsync("/")));
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

    sealed class HeaderAuthentication(Microsoft.Extensions.Options.IOptionsMonitor<AuthenticationSchemeOptions> options,
        Microsoft.Extensions.Logging.ILoggerFactory logger, System.Text.Encodings.Web.UrlEncoder encoder)
        : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        protected override Task<AuthenticateResult> HandleAuthenticateAsync()
        {
            if (!Request.Headers.TryGetValue("X-Test-Role", out var role)) return Task.FromResult(AuthenticateResult.NoResult());
            var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, "tester"), new Claim(ClaimTypes.Role, role.ToString())], "Header");
            return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), "Header")));
        }
    }
}
