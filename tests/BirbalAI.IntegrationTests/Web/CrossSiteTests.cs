using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using BirbalAI.Contracts.Identity;
using BirbalAI.Testing;

namespace BirbalAI.IntegrationTests.Web;

/// <summary>
/// Cross-site request forgery on the API: an unsafe /api request signed in with the session cookie passes only from
/// the site's own origin or with the antiforgery header; bearer credentials are not a browser's to send.
/// </summary>
public sealed class CrossSiteTests(App app) : IClassFixture<App>
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    const string Foreign = "http://chat.localhost:8080";   // same site (SameSite=Lax sends the cookie), another origin

    static HttpRequestMessage Request(HttpMethod method, string url, string? origin = null, string? referer = null, object? body = null)
    {
        var request = new HttpRequestMessage(method, url);
        if (origin is not null) request.Headers.Add("Origin", origin);
        if (referer is not null) request.Headers.Referrer = new Uri(referer);
        if (body is not null) request.Content = JsonContent.Create(body);
        return request;
    }

    async Task<HttpClient> BrowserWithoutOriginAsync()
    {
        var client = await Accounts.SignedInAsync(app, Roles.Member);
        client.DefaultRequestHeaders.Remove("Origin");
        return client;
    }

    [Fact]
    public async Task A_cookie_write_from_another_origin_or_from_nowhere_is_refused_with_problem_details_and_does_nothing()
    {
        var browser = await BrowserWithoutOriginAsync();
        var room = (await (await browser.SendAsync(Request(HttpMethod.Post, "/api/chat/rooms", origin: "http://localhost", body: new { name = "porch", isPrivate = false }), Ct))
            .Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetGuid();

        var foreignOrigin = await browser.SendAsync(Request(HttpMethod.Post, $"/api/chat/rooms/{room}/archive", origin: Foreign), Ct);
        var foreignReferer = await browser.SendAsync(Request(HttpMethod.Post, $"/api/chat/rooms/{room}/archive", referer: Foreign + "/page"), Ct);
        var nullOrigin = await browser.SendAsync(Request(HttpMethod.Post, $"/api/chat/rooms/{room}/archive", origin: "null"), Ct);
        var nowhere = await browser.SendAsync(Request(HttpMethod.Post, $"/api/chat/rooms/{room}/leave"), Ct);

        foreach (var refused in new[] { foreignOrigin, foreignReferer, nullOrigin, nowhere })
        {
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        }
        Assert.Contains("Cross-site request refused", await foreignOrigin.Content.ReadAsStringAsync(Ct));
        var rooms = await browser.GetFromJsonAsync<JsonElement>("/api/chat/rooms", Ct);   // reads are not affected
        Assert.False(rooms.EnumerateArray().Single(r => r.GetProperty("id").GetGuid() == room).GetProperty("archived").GetBoolean());
    }

    [Fact]
    public async Task A_cookie_write_from_the_same_origin_or_with_the_antiforgery_header_passes()
    {
        var browser = await BrowserWithoutOriginAsync();
        var sameOrigin = await browser.SendAsync(Request(HttpMethod.Post, "/api/chat/rooms", origin: "http://localhost", body: new { name = "porch", isPrivate = false }), Ct);
        var sameReferer = await browser.SendAsync(Request(HttpMethod.Post, "/api/chat/rooms", referer: "http://localhost/chat", body: new { name = "yard", isPrivate = false }), Ct);
        var token = (await browser.GetDocumentAsync("/chat")).QuerySelector("input[name=__RequestVerificationToken]")!.GetAttribute("value")!;
        var withToken = Request(HttpMethod.Post, "/api/chat/rooms", origin: Foreign, body: new { name = "shed", isPrivate = false });
        withToken.Headers.Add("RequestVerificationToken", token);
        var forgedToken = Request(HttpMethod.Post, "/api/chat/rooms", origin: Foreign, body: new { name = "shed", isPrivate = false });
        forgedToken.Headers.Add("RequestVerificationToken", "forged");

        Assert.Equal(HttpStatusCode.Created, sameOrigin.StatusCode);
        Assert.Equal(HttpStatusCode.Created, sameReferer.StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await browser.SendAsync(withToken, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await browser.SendAsync(forgedToken, Ct)).StatusCode);
    }

    [Fact]
    public async Task A_bearer_request_is_unaffected_by_its_origin()
    {
        var (api, _, _) = await Accounts.WithApiKeyAsync(app, Roles.Member);

        var created = await api.SendAsync(Request(HttpMethod.Post, "/api/chat/rooms", origin: Foreign, body: new { name = "porch", isPrivate = false }), Ct);
        var room = (await created.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetGuid();
        var archived = await api.SendAsync(Request(HttpMethod.Post, $"/api/chat/rooms/{room}/archive"), Ct);

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, archived.StatusCode);
    }
}
