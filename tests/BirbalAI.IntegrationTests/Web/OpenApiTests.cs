using System.Net;
using System.Text.Json;
using AngleSharp.Dom;
using BirbalAI.Testing;
using Newtonsoft.Json.Linq;
using Snapshooter.Xunit3;

namespace BirbalAI.IntegrationTests.Web;

public sealed class OpenApiTests(App app) : IClassFixture<App>
{
    [Fact]
    public async Task The_OpenAPI_document_describes_the_api()
    {
        var response = await app.CreateClient().GetAsync("/openapi/v1.json", TestContext.Current.CancellationToken);
        var json = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("3.", JsonDocument.Parse(json).RootElement.GetProperty("openapi").GetString());
        // A reviewed snapshot: a change to the public API shows up in the diff of __snapshots__.
        Snapshot.Match(JToken.Parse(json));
    }

    [Fact]
    public async Task Swagger_UI_is_served_from_embedded_assets_with_nothing_from_a_CDN()
    {
        var client = app.CreateClient();

        var page = await client.GetDocumentAsync("/swagger/index.html");

        Assert.Equal("Birbal AI API", page.Title);
        var assets = page.QuerySelectorAll("script[src], link[href]").Select(e => e.GetAttribute("src") ?? e.GetAttribute("href")!).ToList();
        Assert.NotEmpty(assets);
        Assert.All(assets, a => Assert.DoesNotContain("//", a));
        foreach (var asset in assets)
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/swagger/" + asset.TrimStart('.', '/'), TestContext.Current.CancellationToken)).StatusCode);
    }
}
