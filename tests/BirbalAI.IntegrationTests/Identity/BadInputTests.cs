using System.Net;
using System.Text;
using System.Text.Json;
using BirbalAI.Contracts.Identity;
using BirbalAI.Testing;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace BirbalAI.IntegrationTests.Identity;

/// <summary>Bad input gets a clear error and changes nothing.</summary>
public sealed class BadInputTests(BadInputTests.Fixture fixture) : IClassFixture<BadInputTests.Fixture>
{
    /// <summary>
    /// One app for the class: each test signs in its own Admin; the counts compare before and after within one test (the
    /// class's tests run one at a time). Its sign-ins all come from one address, so the per-address limit is out of the way.
    /// </summary>
    public sealed class Fixture : IAsyncLifetime
    {
        public App App { get; } = new();

        public async ValueTask InitializeAsync()
        {
            await App.InitializeAsync();
            App.With("Api:MaxRequestBodyBytes", "4096").With("Identity:SignInPerIpLimit", "1000");
        }

        public ValueTask DisposeAsync() => App.DisposeAsync();
    }

    readonly App app = fixture.App;

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    async Task<(long Users, long Keys, long Audit)> CountsAsync()
    {
        await using var connection = await app.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync(Ct);
        return await connection.QuerySingleAsync<(long, long, long)>("""
            select (select count(*) from identity.users), (select count(*) from identity.api_keys),
                   (select count(*) from identity.audit_log where kind not like 'identity.sign-in%')
            """);
    }

    static async Task<JsonElement> ProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
    }

    static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    [Fact]
    public async Task An_oversize_body_gets_413_before_anything_reads_it()
    {
        var response = await app.CreateClient().PostAsync("/api/auth/token", Json($$"""{"email":"a@b.org","password":"{{new string('x', 5000)}}"}"""), Ct);

        var problem = await ProblemAsync(response, HttpStatusCode.RequestEntityTooLarge);
        Assert.Contains("4096 bytes", problem.GetProperty("detail").GetString());
    }

    [Theory]
    [InlineData("{\"email\": \"a@b.org\", \"password\": ")]
    [InlineData("[1, 2, 3]")]
    [InlineData("{\"email\": 42, \"password\": true}")]
    [InlineData("")]
    public async Task Malformed_json_gets_400_problem_details(string body)
    {
        var response = await app.CreateClient().PostAsync("/api/auth/token", Json(body), Ct);

        await ProblemAsync(response, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task A_wrong_content_type_gets_415_problem_details()
    {
        var response = await app.CreateClient().PostAsync("/api/auth/token",
            new StringContent("email=a@b.org&password=x", Encoding.UTF8, "application/x-www-form-urlencoded"), Ct);

        await ProblemAsync(response, HttpStatusCode.UnsupportedMediaType);
    }

    [Theory]
    [InlineData("email")]
    [InlineData("password")]
    public async Task Overlong_or_odd_fields_of_the_token_request_get_a_validation_problem(string field)
    {
        var values = new Dictionary<string, string> { ["email"] = "someone@example.org", ["password"] = "a password of sorts" };
        values[field] = field == "email" ? new string('é', 300) + "@example.org" : string.Concat(Enumerable.Repeat("🔑", 200));

        var response = await app.CreateClient().PostAsync("/api/auth/token", Json(JsonSerializer.Serialize(values)), Ct);

        var problem = await ProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains(problem.GetProperty("errors").EnumerateObject(), e => e.Name.Equals(field, StringComparison.OrdinalIgnoreCase));
    }

    public static TheoryData<string, string, string> BadInvites => new()
    {
        { "Email", new string('a', 250) + "@example.org", "Email: at most 254 characters" },
        { "Email", "name@@example.org", "Email: enter an address" },
        { "DisplayName", new string('ß', 101), "Name: at most 100 characters" },
        { "DisplayName", "tab\there", "Name: contains control characters" },
        { "DisplayName", "   ", "Name: required" },
        { "Role", "Superuser", "Role: choose Member, Annotator, Admin" },
    };

    [Theory]
    [MemberData(nameof(BadInvites))]
    public async Task Every_field_of_the_invite_form_refuses_bad_input_and_nothing_changes(string field, string value, string message)
    {
        var admin = await Accounts.SignedInAsync(app, Roles.Admin);
        var before = await CountsAsync();
        var page = await admin.GetDocumentAsync("/admin/identity/users");
        var values = new Dictionary<string, string> { ["Email"] = "fine@example.org", ["DisplayName"] = "Fine Name", ["Role"] = Roles.Member };
        values[field] = value;

        var response = await admin.SubmitAsync(page, "#invite", values, pageUrl: "/admin/identity/users");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(message, (await HtmlForms.ParseAsync(response)).QuerySelector("[role=alert]")!.TextContent);
        Assert.Equal(before, await CountsAsync());
    }

    [Theory]
    [InlineData("", "Key name: required")]
    [InlineData("LONG", "Key name: at most 100 characters")]
    [InlineData("bell\u0007", "Key name: contains control characters")]
    public async Task The_key_form_refuses_bad_names_and_creates_no_key(string name, string message)
    {
        var admin = await Accounts.SignedInAsync(app, Roles.Admin);
        var before = await CountsAsync();
        var page = await admin.GetDocumentAsync("/admin/identity/api-keys");

        var response = await admin.SubmitAsync(page, "#create-key", new Dictionary<string, string>
        {
            ["Owner"] = "service", ["AccountName"] = "bot", ["Name"] = name == "LONG" ? new string('k', 101) : name, ["RoleCap"] = Roles.Member,
        }, pageUrl: "/admin/identity/api-keys");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(message, (await HtmlForms.ParseAsync(response)).QuerySelector("[role=alert]")!.TextContent);
        // The service account is made in its own step: no key means no half-made key.
        Assert.Equal(before.Keys, (await CountsAsync()).Keys);
    }

    [Fact]
    public async Task An_overlong_audit_filter_gets_a_message()
    {
        var admin = await Accounts.SignedInAsync(app, Roles.Admin);

        var response = await admin.GetAsync("/admin/identity/audit?User=" + new string('u', 300), Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("at most 254 characters", await response.Content.ReadAsStringAsync(Ct));
    }

    [Fact]
    public async Task The_user_search_api_refuses_an_overlong_query()
    {
        var (admin, _, _) = await Accounts.WithApiKeyAsync(app, Roles.Admin);

        var response = await admin.GetAsync("/api/identity/users?q=" + new string('q', 101), Ct);

        await ProblemAsync(response, HttpStatusCode.BadRequest);
    }
}
