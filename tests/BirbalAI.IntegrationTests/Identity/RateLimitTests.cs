using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using BirbalAI.Contracts.Identity;

namespace BirbalAI.IntegrationTests.Identity;

/// <summary>The limits live in Redis: two instances of one deployment share them.</summary>
public sealed class RateLimitTests : TwoReplicas
{
    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        foreach (var app in new[] { First, Second })
            app.With("Identity:SignInPerAccountLimit", "3").With("Identity:SignInPerIpLimit", "1000")
                .With("Identity:ApiPerClientLimit", "5").With("Identity:ApiWindowSeconds", "60");
    }

    static async Task AssertTooManyAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.InRange(int.Parse(response.Headers.GetValues("Retry-After").Single()), 1, 60);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(429, problem.GetProperty("status").GetInt32());
    }

    [Fact]
    public async Task Sign_in_attempts_per_account_are_limited_across_instances()
    {
        var (_, email) = await Accounts.CreateAsync(First, Roles.Member);
        var body = new { email, password = "a wrong password" };

        var statuses = new List<HttpStatusCode>();
        foreach (var app in new[] { First, Second, First })
            statuses.Add((await app.CreateClient().PostAsJsonAsync("/api/auth/token", body, TestContext.Current.CancellationToken)).StatusCode);
        var fourth = await Second.CreateClient().PostAsJsonAsync("/api/auth/token", body, TestContext.Current.CancellationToken);

        Assert.Equal([HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized], statuses);
        await AssertTooManyAsync(fourth);
        // Even the right password waits: the limit is on attempts, not on failures.
        var right = await First.CreateClient().PostAsJsonAsync("/api/auth/token", new { email, password = Accounts.Password }, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.TooManyRequests, right.StatusCode);
    }

    [Fact]
    public async Task Api_requests_per_key_are_limited_across_instances()
    {
        var (_, key, _) = await Accounts.WithApiKeyAsync(First, Roles.Member);
        HttpClient Client(App app)
        {
            var client = app.CreateClient();
            client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
            return client;
        }

        var ok = 0;
        for (var i = 0; i < 5; i++)
            if ((await Client(i % 2 == 0 ? First : Second).GetAsync("/api/identity/me", TestContext.Current.CancellationToken)).IsSuccessStatusCode) ok++;
        var sixth = await Client(Second).GetAsync("/api/identity/me", TestContext.Current.CancellationToken);

        Assert.Equal(5, ok);
        await AssertTooManyAsync(sixth);
        // Another key has its own budget.
        var (other, _, _) = await Accounts.WithApiKeyAsync(First, Roles.Member);
        Assert.Equal(HttpStatusCode.OK, (await other.GetAsync("/api/identity/me", TestContext.Current.CancellationToken)).StatusCode);
    }

    [Fact]
    public async Task The_sign_in_page_says_to_wait_with_a_429()
    {
        var (_, email) = await Accounts.CreateAsync(First, Roles.Member);
        for (var i = 0; i < 3; i++)
            await First.CreateClient().PostAsJsonAsync("/api/auth/token", new { email, password = "a wrong password" }, TestContext.Current.CancellationToken);
        var client = Second.CreateClient();
        var page = await BirbalAI.Testing.HtmlForms.GetDocumentAsync(client, "/account/sign-in");

        var response = await BirbalAI.Testing.HtmlForms.SubmitAsync(client, page, "#sign-in",
            new Dictionary<string, string> { ["Email"] = email, ["Password"] = Accounts.Password }, pageUrl: "/account/sign-in");

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.True(response.Headers.Contains("Retry-After"));
        Assert.Contains("Too many sign-in attempts", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }
}
