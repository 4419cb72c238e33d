using System.Net;
using System.Net.Http.Json;
using AngleSharp.Html.Dom;
using BirbalAI.Contracts.Identity;
using AngleSharp.Dom;
using BirbalAI.Testing;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace BirbalAI.IntegrationTests.Identity;

public sealed class InvitationTests(InvitationTests.Fixture fixture) : IClassFixture<InvitationTests.Fixture>, IAsyncLifetime
{
    /// <summary>
    /// One app and clock for the class: each test has its own Admin and invites its own addresses; the clock only moves
    /// forward. Its sign-ins all come from one address, so the per-address limit is out of the way.
    /// </summary>
    public sealed class Fixture : IAsyncLifetime
    {
        public App App { get; } = new();
        public FakeTimeProvider Clock { get; } = new(DateTimeOffset.UtcNow);

        public async ValueTask InitializeAsync()
        {
            await App.InitializeAsync();
            App.With("Identity:InvitationHours", "48").With("Identity:SignInPerIpLimit", "1000").WithServices(s => s.AddSingleton<TimeProvider>(Clock));
        }

        public ValueTask DisposeAsync() => App.DisposeAsync();
    }

    readonly App app = fixture.App;
    readonly FakeTimeProvider clock = fixture.Clock;
    HttpClient admin = null!;

    public async ValueTask InitializeAsync() => admin = await Accounts.SignedInAsync(app, Roles.Admin);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    async Task<(HttpResponseMessage Response, string? Link)> InviteAsync(string email, string role = Roles.Member)
    {
        var page = await admin.GetDocumentAsync("/admin/identity/users");
        var response = await admin.SubmitAsync(page, "#invite", new Dictionary<string, string>
        {
            ["Email"] = email, ["DisplayName"] = "Invited Person", ["Role"] = role,
        }, pageUrl: "/admin/identity/users");
        var link = (await HtmlForms.ParseAsync(response)).QuerySelector<IHtmlInputElement>("#link")?.Value;
        return (response, link);
    }

    async Task<HttpResponseMessage> AcceptAsync(HttpClient person, string link, string password)
    {
        var page = await person.GetDocumentAsync(link);
        return await person.SubmitAsync(page, "#accept", new Dictionary<string, string> { ["Password"] = password, ["Confirm"] = password },
            pageUrl: link);
    }

    HttpClient Stranger() => app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

    [Fact]
    public async Task An_invited_person_sets_a_password_once_and_is_signed_in_with_the_invited_role()
    {
        var (_, link) = await InviteAsync("new.person@example.org", Roles.Annotator);
        Assert.NotNull(link);
        var person = Stranger();

        var accepted = await AcceptAsync(person, new Uri(link).PathAndQuery, "my own good password");

        Assert.Equal(HttpStatusCode.Redirect, accepted.StatusCode);
        var me = await person.GetDocumentAsync("/");
        Assert.Equal("Invited Person", me.QuerySelector(".account .who")?.TextContent);
        var again = await Stranger().GetAsync(new Uri(link).PathAndQuery, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
        Assert.Contains("This link is not valid any more", await again.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        var token = await app.CreateClient().PostAsJsonAsync("/api/auth/token",
            new { email = "new.person@example.org", password = "my own good password" }, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, token.StatusCode);
    }

    [Fact]
    public async Task An_invitation_expires_after_the_configured_hours()
    {
        var (_, link) = await InviteAsync("late.person@example.org");

        clock.Advance(TimeSpan.FromHours(49));

        var page = await Stranger().GetAsync(new Uri(link!).PathAndQuery, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.NotFound, page.StatusCode);
    }

    [Fact]
    public async Task Inviting_an_existing_address_is_refused_with_a_message()
    {
        await InviteAsync("twice@example.org");

        var (response, link) = await InviteAsync("TWICE@example.org");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Null(link);
        Assert.Contains("twice@example.org already has an account", (await HtmlForms.ParseAsync(response)).QuerySelector("[role=alert]")!.TextContent);
    }

    [Fact]
    public async Task A_reset_link_replaces_the_password_and_ends_old_sessions()
    {
        var (_, email) = await Accounts.CreateAsync(app, Roles.Member);
        var oldSession = await Accounts.SignInAsync(app, email);
        var users = await admin.GetDocumentAsync("/admin/identity/users");
        var reset = await admin.SubmitAsync(users, $"tr[data-email='{email}'] form[action*='handler=Reset']", pageUrl: "/admin/identity/users");
        var link = (await HtmlForms.ParseAsync(reset)).QuerySelector<IHtmlInputElement>("#link")!.Value;

        var accepted = await AcceptAsync(Stranger(), new Uri(link).PathAndQuery, "the replacement password");

        Assert.Equal(HttpStatusCode.Redirect, accepted.StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await oldSession.GetAsync("/account/password", TestContext.Current.CancellationToken)).StatusCode);
        await Accounts.SignInAsync(app, email, "the replacement password");
        await Assert.ThrowsAsync<InvalidOperationException>(() => Accounts.SignInAsync(app, email));
    }

    [Fact]
    public async Task Mismatched_or_short_passwords_keep_the_link_usable()
    {
        var (_, link) = await InviteAsync("careful@example.org");
        var path = new Uri(link!).PathAndQuery;
        var person = Stranger();
        var page = await person.GetDocumentAsync(path);

        var mismatch = await person.SubmitAsync(page, "#accept", new Dictionary<string, string> { ["Password"] = "first password x", ["Confirm"] = "second password y" }, pageUrl: path);
        var tooShort = await person.SubmitAsync(page, "#accept", new Dictionary<string, string> { ["Password"] = "short", ["Confirm"] = "short" }, pageUrl: path);

        Assert.Equal(HttpStatusCode.BadRequest, mismatch.StatusCode);
        Assert.Contains("The two passwords differ", await mismatch.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.Equal(HttpStatusCode.BadRequest, tooShort.StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await AcceptAsync(person, path, "finally a good one")).StatusCode);
    }
}
