using System.Net;
using BirbalAI.Contracts.Identity;
using BirbalAI.Testing;
using System.Net.Http.Json;
using Dapper;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace BirbalAI.IntegrationTests.Identity;

public sealed class SignInTests(SignInTests.Fixture fixture) : IClassFixture<SignInTests.Fixture>
{
    /// <summary>
    /// One app and clock for the class: each test signs in its own people, and the clock only moves forward. All its
    /// sign-ins come from one address, so the per-address limit is out of the way (RateLimitTests tests it).
    /// </summary>
    public sealed class Fixture : IAsyncLifetime
    {
        public App App { get; } = new();
        public FakeTimeProvider Clock { get; } = new(DateTimeOffset.UtcNow);

        public async ValueTask InitializeAsync()
        {
            await App.InitializeAsync();
            App.With("Identity:MaxFailedSignIns", "3").With("Identity:LockoutMinutes", "15").With("Identity:SignInPerIpLimit", "1000")
                .WithServices(s => s.AddSingleton<TimeProvider>(Clock));
        }

        public ValueTask DisposeAsync() => App.DisposeAsync();
    }

    readonly App app = fixture.App;
    readonly FakeTimeProvider clock = fixture.Clock;

    async Task<HttpResponseMessage> TryAsync(string email, string password)
    {
        var client = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        var page = await client.GetDocumentAsync("/account/sign-in");
        return await client.SubmitAsync(page, "#sign-in", new Dictionary<string, string> { ["Email"] = email, ["Password"] = password },
            pageUrl: "/account/sign-in");
    }

    static async Task<string> AlertAsync(HttpResponseMessage response) =>
        (await HtmlForms.ParseAsync(response)).QuerySelector("[role=alert]")!.TextContent.Trim();

    [Fact]
    public async Task A_wrong_password_is_refused_and_the_right_one_signs_in_until_sign_out()
    {
        var (_, email) = await Accounts.CreateAsync(app, Roles.Member);

        var wrong = await TryAsync(email, "not the password");
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Equal("Wrong email or password.", await AlertAsync(wrong));

        var client = await Accounts.SignInAsync(app, email);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/account/password", TestContext.Current.CancellationToken)).StatusCode);
        var home = await client.GetDocumentAsync("/");
        await client.SubmitAsync(home, "form[action='/account/sign-out']");
        var after = await client.GetAsync("/account/password", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Redirect, after.StatusCode);
        Assert.StartsWith("/account/sign-in", after.Headers.Location?.PathAndQuery);
    }

    [Fact]
    public async Task A_locked_out_account_stays_locked_for_the_configured_time_even_with_the_right_password()
    {
        var (_, email) = await Accounts.CreateAsync(app, Roles.Member);

        await TryAsync(email, "wrong 1");
        await TryAsync(email, "wrong 2");
        var third = await TryAsync(email, "wrong 3");
        Assert.StartsWith("This account is locked", await AlertAsync(third));

        Assert.StartsWith("This account is locked", await AlertAsync(await TryAsync(email, Accounts.Password)));
        clock.Advance(TimeSpan.FromMinutes(14));
        Assert.StartsWith("This account is locked", await AlertAsync(await TryAsync(email, Accounts.Password)));
        clock.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(HttpStatusCode.Redirect, (await TryAsync(email, Accounts.Password)).StatusCode);

        var admin = await Accounts.SignedInAsync(app, Roles.Admin);
        var audit = (await admin.GetDocumentAsync($"/admin/identity/audit?User={email}")).QuerySelector("#audit tbody")!.TextContent;
        Assert.Contains("identity.locked-out", audit);
        Assert.Contains("identity.sign-in-failed", audit);
        Assert.Contains("identity.sign-in", audit);
    }

    [Fact]
    public async Task Disabling_a_user_ends_their_session_and_refuses_their_sign_in()
    {
        var (_, email) = await Accounts.CreateAsync(app, Roles.Member);
        var member = await Accounts.SignInAsync(app, email);
        var admin = await Accounts.SignedInAsync(app, Roles.Admin);

        var users = await admin.GetDocumentAsync("/admin/identity/users");
        var disabled = await admin.SubmitAsync(users, $"tr[data-email='{email}'] form[action*='handler=Disable']", pageUrl: "/admin/identity/users");

        Assert.Equal(HttpStatusCode.OK, disabled.StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await member.GetAsync("/account/password", TestContext.Current.CancellationToken)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await TryAsync(email, Accounts.Password)).StatusCode);
        Assert.Contains("The user is disabled", await disabled.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Changing_my_password_keeps_this_session_and_ends_the_others()
    {
        var (_, email) = await Accounts.CreateAsync(app, Roles.Annotator);
        var here = await Accounts.SignInAsync(app, email);
        var elsewhere = await Accounts.SignInAsync(app, email);

        var page = await here.GetDocumentAsync("/account/password");
        var changed = await here.SubmitAsync(page, "#change-password", new Dictionary<string, string>
        {
            ["Current"] = Accounts.Password, ["Next"] = "a brand new passphrase", ["Confirm"] = "a brand new passphrase",
        }, pageUrl: "/account/password");

        Assert.Contains("Your password is changed", await changed.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.Equal(HttpStatusCode.OK, (await here.GetAsync("/account/password", TestContext.Current.CancellationToken)).StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await elsewhere.GetAsync("/account/password", TestContext.Current.CancellationToken)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await TryAsync(email, Accounts.Password)).StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await TryAsync(email, "a brand new passphrase")).StatusCode);
    }

    [Fact]
    public async Task A_sign_in_never_redirects_to_another_site()
    {
        var (_, email) = await Accounts.CreateAsync(app, Roles.Member);
        var client = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        var page = await client.GetDocumentAsync("/account/sign-in?ReturnUrl=//evil.example/steal");

        var response = await client.SubmitAsync(page, "#sign-in", new Dictionary<string, string> { ["Email"] = email, ["Password"] = Accounts.Password },
            pageUrl: "/account/sign-in");

        Assert.Equal("/", response.Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task Concurrent_wrong_passwords_all_count_and_lock_the_account()
    {
        var (id, email) = await Accounts.CreateAsync(app, Roles.Member);
        var client = app.CreateClient();

        // Nine at once against a limit of three: a read-add-write count lost most of them and never locked.
        await Task.WhenAll(Enumerable.Range(0, 9).Select(i =>
            client.PostAsJsonAsync("/api/auth/token", new { email, password = $"wrong {i}" }, TestContext.Current.CancellationToken)));

        await using var connection = await app.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync(TestContext.Current.CancellationToken);
        Assert.NotNull(await connection.ExecuteScalarAsync<DateTime?>("select locked_until from identity.users where id = @id", new { id }));
        var right = await client.PostAsJsonAsync("/api/auth/token", new { email, password = Accounts.Password }, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Unauthorized, right.StatusCode);
        Assert.Contains("locked", await right.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task A_copy_of_the_session_cookie_is_worthless_after_sign_out()
    {
        var (_, email) = await Accounts.CreateAsync(app, Roles.Member);
        var jar = new System.Net.CookieContainer();
        var client = app.CreateDefaultClient(new Microsoft.AspNetCore.Mvc.Testing.Handlers.CookieContainerHandler(jar));
        await client.SubmitAsync(await client.GetDocumentAsync("/account/sign-in"), "#sign-in",
            new Dictionary<string, string> { ["Email"] = email, ["Password"] = Accounts.Password }, pageUrl: "/account/sign-in");
        var home = await client.GetDocumentAsync("/");
        var copy = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });
        copy.DefaultRequestHeaders.Add("Cookie", jar.GetCookieHeader(client.BaseAddress!));
        Assert.Equal(HttpStatusCode.OK, (await copy.GetAsync("/account/password", TestContext.Current.CancellationToken)).StatusCode);

        await client.SubmitAsync(home, "form[action='/account/sign-out']");

        var after = await copy.GetAsync("/account/password", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Redirect, after.StatusCode);
        Assert.StartsWith("/account/sign-in", after.Headers.Location?.PathAndQuery);
    }

    [Fact]
    public async Task Wrong_current_passwords_on_the_password_page_count_towards_the_lockout()
    {
        var (_, email) = await Accounts.CreateAsync(app, Roles.Member);
        var client = await Accounts.SignInAsync(app, email);

        async Task<HttpResponseMessage> ChangeAsync(string current) => await client.SubmitAsync(await client.GetDocumentAsync("/account/password"),
            "#change-password", new Dictionary<string, string> { ["Current"] = current, ["Next"] = "a brand new passphrase", ["Confirm"] = "a brand new passphrase" },
            pageUrl: "/account/password");

        Assert.Equal("The current password is wrong.", await AlertAsync(await ChangeAsync("guess 1")));
        await ChangeAsync("guess 2");
        var third = await ChangeAsync("guess 3");
        var right = await ChangeAsync(Accounts.Password);

        Assert.Contains("locked", await AlertAsync(third));
        Assert.Equal(HttpStatusCode.Unauthorized, right.StatusCode);
        Assert.Contains("locked", await AlertAsync(right));
        Assert.StartsWith("This account is locked", await AlertAsync(await TryAsync(email, Accounts.Password)));
    }

    [Fact]
    public async Task An_unknown_email_is_answered_exactly_as_a_real_account_through_the_lockout()
    {
        var (_, email) = await Accounts.CreateAsync(app, Roles.Member);
        var nobody = $"nobody-{Guid.NewGuid():N}@example.org";

        var real = new List<(HttpStatusCode, string)>();
        var unknown = new List<(HttpStatusCode, string)>();
        for (var i = 0; i < 4; i++)
        {
            var a = await TryAsync(email, $"wrong {i}");
            real.Add((a.StatusCode, await AlertAsync(a)));
            var b = await TryAsync(nobody, $"wrong {i}");
            unknown.Add((b.StatusCode, await AlertAsync(b)));
        }

        Assert.Equal(real, unknown);
        Assert.StartsWith("This account is locked", unknown[2].Item2);
    }
}
