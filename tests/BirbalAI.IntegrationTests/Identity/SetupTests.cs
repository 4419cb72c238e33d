using System.Net;
using AngleSharp.Dom;
using BirbalAI.Testing;
using Dapper;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace BirbalAI.IntegrationTests.Identity;

/// <summary>First-run setup: the first Admin, only while nobody exists (an app of its own: setup leaves it with an Admin).</summary>
public sealed class SetupTests : IAsyncLifetime
{
    readonly App app = new();

    public ValueTask InitializeAsync() => app.InitializeAsync();
    public ValueTask DisposeAsync() => app.DisposeAsync();

    HttpClient Browser() => Browser(app);

    Task<long> UsersAsync() => UsersAsync(app);

    internal static HttpClient Browser(App app) => app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

    internal static async Task<long> UsersAsync(App app)
    {
        await using var connection = await app.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync();
        return await connection.ExecuteScalarAsync<long>("select count(*) from identity.users");
    }

    [Fact]
    public async Task Setup_creates_the_first_Admin_signs_them_in_and_then_is_gone()
    {
        var browser = Browser();
        var latecomer = Browser();
        var latecomerPage = await latecomer.GetDocumentAsync("/account/setup");   // opened before setup is done
        var signIn = await browser.GetAsync("/account/sign-in", TestContext.Current.CancellationToken);
        Assert.Equal("/account/setup", signIn.Headers.Location?.OriginalString);   // a fresh install sends people to setup

        var page = await browser.GetDocumentAsync("/account/setup");
        var created = await browser.SubmitAsync(page, "#setup", new Dictionary<string, string>
        {
            ["Email"] = "Founder@Example.org", ["DisplayName"] = "Founder", ["Password"] = Accounts.Password,
        }, pageUrl: "/account/setup");

        Assert.Equal(HttpStatusCode.Redirect, created.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/admin/identity/users", TestContext.Current.CancellationToken)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Browser().GetAsync("/account/setup", TestContext.Current.CancellationToken)).StatusCode);
        var again = await latecomer.SubmitAsync(latecomerPage, "#setup", new Dictionary<string, string>
        {
            ["Email"] = "intruder@example.org", ["DisplayName"] = "Intruder", ["Password"] = Accounts.Password,
        }, pageUrl: "/account/setup");
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
        Assert.Equal(1, await UsersAsync());
        var audit = await browser.GetDocumentAsync("/admin/identity/audit?Kind=identity.setup");
        Assert.Contains("founder@example.org", audit.QuerySelector("#audit tbody")!.TextContent);
    }
}

public sealed class SetupUnicodeTests : IAsyncLifetime
{
    readonly App app = new();

    public ValueTask InitializeAsync() => app.InitializeAsync();
    public ValueTask DisposeAsync() => app.DisposeAsync();

    [Fact]
    public async Task Odd_but_valid_Unicode_is_kept_exactly_and_rendered_as_text()
    {
        const string name = "Zoë 𝔘𝔫𝔦 <b>‮دعاء</b> 👩🏽‍🚀";
        var browser = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = true });
        var page = await browser.GetDocumentAsync("/account/setup");

        await browser.SubmitAsync(page, "#setup", new Dictionary<string, string>
        {
            ["Email"] = "zoe@example.org", ["DisplayName"] = name, ["Password"] = Accounts.Password,
        }, pageUrl: "/account/setup");

        var users = await browser.GetDocumentAsync("/admin/identity/users");
        var cell = users.QuerySelector("tr[data-email='zoe@example.org'] td")!;
        Assert.Equal(name.Normalize(System.Text.NormalizationForm.FormC), cell.TextContent);
        Assert.Null(cell.QuerySelector("b"));   // markup in a name stays text
    }
}

/// <summary>Setup refusing bad input, on one fresh installation for the class: a refusal creates nobody, so it stays fresh.</summary>
public sealed class SetupRefusalTests(App app) : IClassFixture<App>
{
    HttpClient Browser() => SetupTests.Browser(app);

    Task<long> UsersAsync() => SetupTests.UsersAsync(app);

    [Theory]
    [InlineData("not-an-email", "Founder", "Email: enter an address")]
    [InlineData("founder@example.org", "Founder", "Password: at least 10 characters")]
    [InlineData("founder@example.org", "Bad\u0007Name", "Name: contains control characters")]
    [InlineData("founder@example.org", "LONG", "Name: at most 100 characters")]
    public async Task Setup_refuses_bad_input_with_a_message_and_creates_nobody(string email, string name, string message)
    {
        if (name == "LONG") name = string.Concat(Enumerable.Repeat("👩🏽‍🚀", 101));   // 101 graphemes of 7 UTF-16 units each
        var browser = Browser();
        var page = await browser.GetDocumentAsync("/account/setup");

        var response = await browser.SubmitAsync(page, "#setup", new Dictionary<string, string>
        {
            ["Email"] = email, ["DisplayName"] = name, ["Password"] = message.StartsWith("Password") ? "short" : Accounts.Password,
        }, pageUrl: "/account/setup");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var html = await HtmlForms.ParseAsync(response);
        Assert.Contains(message, html.QuerySelector("[role=alert]")!.TextContent);
        Assert.Equal(email, html.QuerySelector<AngleSharp.Html.Dom.IHtmlInputElement>("#email")!.Value);   // nothing typed is lost
        Assert.Equal(0, await UsersAsync());
    }
}
