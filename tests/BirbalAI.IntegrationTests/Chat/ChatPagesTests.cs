using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using BirbalAI.Contracts.Identity;
using BirbalAI.Testing;

namespace BirbalAI.IntegrationTests.Chat;

/// <summary>
/// The chat pages: what each member's page shows, filters on render, paging back, forms that refuse clearly. One app for
/// the class, with the policy that holds instead of rejecting saved once (no test here expects a rejection); each test
/// works with its own people and rooms.
/// </summary>
public sealed class ChatPagesTests(ChatPagesTests.Fixture fixture) : IClassFixture<ChatPagesTests.Fixture>
{
    public sealed class Fixture : IAsyncLifetime
    {
        public App App { get; } = new();

        public async ValueTask InitializeAsync()
        {
            await App.InitializeAsync();
            App.WithStarterModel().With("Chat:PageSize", "2");
            await StarterModels.HoldNeverRejectAsync(App);
        }

        public ValueTask DisposeAsync() => App.DisposeAsync();
    }

    readonly App app = fixture.App;

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    async Task<(HttpClient Page, HttpClient Api, string Email)> MemberAsync()
    {
        var (api, _, _, email) = await Accounts.PersonAsync(app, Roles.Member);
        return (await Accounts.SignInAsync(app, email), api, email);
    }

    [Fact]
    public async Task Another_members_held_message_is_not_on_my_page_and_mine_is_marked_pending_review()
    {
        var ann = await MemberAsync();
        var bob = await MemberAsync();
        var room = (await (await ann.Api.PostAsJsonAsync("/api/chat/rooms", new { name = "porch", isPrivate = false }, Ct)).Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetGuid();
        await bob.Api.PostAsync($"/api/chat/rooms/{room}/join", null, Ct);

        await ann.Api.PostAsJsonAsync($"/api/chat/rooms/{room}/messages", new { text = StarterModels.Threat }, Ct);

        var annPage = await ann.Page.GetDocumentAsync($"/chat/rooms/{room}");
        var bobPage = await bob.Page.GetDocumentAsync($"/chat/rooms/{room}");
        Assert.Contains("pending review", annPage.QuerySelector("#messages li[data-status='held']")!.TextContent);
        Assert.Empty(bobPage.QuerySelectorAll("#messages li"));
        Assert.DoesNotContain("kill", bobPage.Body!.TextContent);
        var review = await ann.Page.GetDocumentAsync("/chat/review");
        Assert.Single(review.QuerySelectorAll("#held tbody tr"));
        Assert.Empty((await bob.Page.GetDocumentAsync("/chat/review")).QuerySelectorAll("#held tbody tr"));
    }

    [Fact]
    public async Task My_filters_blur_messages_above_my_levels_and_history_pages_back()
    {
        var ann = await MemberAsync();
        var bob = await MemberAsync();
        var room = (await (await ann.Api.PostAsJsonAsync("/api/chat/rooms", new { name = "porch", isPrivate = false }, Ct)).Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetGuid();
        await bob.Api.PostAsync($"/api/chat/rooms/{room}/join", null, Ct);
        foreach (var text in new[] { "good morning all", "see you later", StarterModels.Clean })
            Assert.Equal("approved", (await (await ann.Api.PostAsJsonAsync($"/api/chat/rooms/{room}/messages", new { text }, Ct)).Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("status").GetString());

        var filters = await bob.Page.GetDocumentAsync("/chat/filters");
        var saved = await bob.Page.SubmitAsync(filters, "#filters", new Dictionary<string, string> { ["level:harassment"] = "0" }, pageUrl: "/chat/filters");
        Assert.Contains("Saved", (await HtmlForms.ParseAsync(saved)).QuerySelector("#result")!.TextContent);

        var page = await bob.Page.GetDocumentAsync($"/chat/rooms/{room}");
        Assert.Equal(2, page.QuerySelectorAll("#messages li").Length);                       // Chat:PageSize
        Assert.All(page.QuerySelectorAll("#messages li"), li => Assert.Contains("blurred", li.ClassName));
        Assert.Empty((await ann.Page.GetDocumentAsync($"/chat/rooms/{room}")).QuerySelectorAll("#messages li.blurred"));   // only bob's filters
        var earlier = await bob.Page.GetDocumentAsync(page.QuerySelector("#earlier")!.GetAttribute("href")!);
        Assert.Equal("good morning all", earlier.QuerySelector("#messages li .body")!.TextContent.Trim());

        var bad = await bob.Page.SubmitAsync(filters, "#filters", new Dictionary<string, string> { ["level:hate"] = "2" }, pageUrl: "/chat/filters");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("hate: a level is a number from 0 to 1", (await HtmlForms.ParseAsync(bad)).QuerySelector("[role=alert]")!.TextContent);
    }

    [Fact]
    public async Task A_room_moderator_renames_adds_and_removes_people_and_archives_on_the_manage_page_and_a_member_may_not()
    {
        var ann = await MemberAsync();
        var bob = await MemberAsync();
        var room = (await (await ann.Api.PostAsJsonAsync("/api/chat/rooms", new { name = "porch", isPrivate = true }, Ct)).Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetGuid();
        var url = $"/chat/rooms/{room}/manage";
        var page = await ann.Page.GetDocumentAsync(url);

        var empty = await ann.Page.SubmitAsync(page, "#add", new Dictionary<string, string> { ["email"] = " " }, pageUrl: url);
        Assert.Equal(HttpStatusCode.BadRequest, empty.StatusCode);
        Assert.Contains("Give the email", (await HtmlForms.ParseAsync(empty)).QuerySelector("[role=alert]")!.TextContent);
        var answer = await ann.Page.SubmitAsync(page, "#add", new Dictionary<string, string> { ["email"] = bob.Email }, pageUrl: url);
        var added = await ann.Page.GetDocumentAsync(answer.Headers.Location!.OriginalString);
        Assert.Contains("if the email belongs to an account here", added.QuerySelector("#result")!.TextContent);
        Assert.Equal(2, added.QuerySelectorAll("#members tbody tr").Length);
        Assert.Equal(HttpStatusCode.OK, (await bob.Page.GetAsync($"/chat/rooms/{room}", Ct)).StatusCode);   // bob is in
        Assert.Equal(HttpStatusCode.Redirect, (await bob.Page.GetAsync(url, Ct)).StatusCode);              // but may not manage it (access denied)

        var renamed = await HtmlForms.ParseAsync(await ann.Page.SubmitAsync(page, "#rename", new Dictionary<string, string> { ["name"] = "back porch" }, pageUrl: url));
        Assert.Contains("back porch", renamed.QuerySelector("h1")!.TextContent);
        var bobRow = added.QuerySelectorAll("#members tbody tr").Single(r => r.TextContent.Contains("Test Member") && r.GetAttribute("data-user") != null
            && r.QuerySelector("td:nth-child(2)")!.TextContent == "member");
        await ann.Page.SubmitAsync(added, $"#members tr[data-user='{bobRow.GetAttribute("data-user")}'] form", new Dictionary<string, string>(), pageUrl: url);
        Assert.Equal(HttpStatusCode.NotFound, (await bob.Page.GetAsync($"/chat/rooms/{room}", Ct)).StatusCode);   // private and he is out

        var archived = await HtmlForms.ParseAsync(await ann.Page.SubmitAsync(page, "#archive", new Dictionary<string, string>(), pageUrl: url));
        Assert.Contains("read-only", archived.QuerySelector("#result")!.TextContent);
        Assert.Equal(HttpStatusCode.Conflict, (await ann.Api.PostAsJsonAsync($"/api/chat/rooms/{room}/messages", new { text = "hello" }, Ct)).StatusCode);
    }

    [Fact]
    public async Task The_rooms_page_creates_a_room_and_refuses_an_empty_name()
    {
        var ann = await MemberAsync();
        var rooms = await ann.Page.GetDocumentAsync("/chat");

        var empty = await ann.Page.SubmitAsync(rooms, "#create", new Dictionary<string, string> { ["Name"] = " " }, pageUrl: "/chat");
        var created = await ann.Page.SubmitAsync(rooms, "#create", new Dictionary<string, string> { ["Name"] = "book club" }, pageUrl: "/chat");

        Assert.Equal(HttpStatusCode.BadRequest, empty.StatusCode);
        Assert.Contains("Give the room a name.", (await HtmlForms.ParseAsync(empty)).QuerySelector("[role=alert]")!.TextContent);
        Assert.Equal(HttpStatusCode.Redirect, created.StatusCode);
        var room = await ann.Page.GetDocumentAsync(created.Headers.Location!.OriginalString);
        Assert.Equal("book club", room.QuerySelector("h1")!.TextContent);
        Assert.NotNull(room.QuerySelector("script[src='/lib/signalr/signalr.min.js']"));
    }

    [Fact]
    public async Task Adding_a_member_on_the_manage_page_answers_alike_whether_or_not_the_email_has_an_account()
    {
        var ann = await MemberAsync();
        var bob = await MemberAsync();
        var room = (await (await ann.Api.PostAsJsonAsync("/api/chat/rooms", new { name = "porch", isPrivate = true }, Ct)).Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetGuid();
        var url = $"/chat/rooms/{room}/manage";
        var page = await ann.Page.GetDocumentAsync(url);

        var existing = await ann.Page.SubmitAsync(page, "#add", new Dictionary<string, string> { ["email"] = bob.Email }, pageUrl: url);
        var unknown = await ann.Page.SubmitAsync(page, "#add", new Dictionary<string, string> { ["email"] = $"nobody-{Guid.NewGuid():N}"[..24] + "@example.org" }, pageUrl: url);

        Assert.Equal(HttpStatusCode.Redirect, existing.StatusCode);
        Assert.Equal(existing.StatusCode, unknown.StatusCode);
        Assert.Equal(existing.Headers.Location, unknown.Headers.Location);
        Assert.Equal(await existing.Content.ReadAsStringAsync(Ct), await unknown.Content.ReadAsStringAsync(Ct));
        Assert.Contains("if the email belongs to an account here", (await ann.Page.GetDocumentAsync(unknown.Headers.Location!.OriginalString)).QuerySelector("#result")!.TextContent);
    }

    [Fact]
    public async Task The_send_limit_holds_for_the_page_form_and_the_api_alike_and_a_refused_page_keeps_the_text()
    {
        await using var strict = App.ReplicaOf(app);
        strict.WithStarterModel().With("Chat:SendLimit", "3");
        var (api, _, _, email) = await Accounts.PersonAsync(strict, Roles.Member);
        var browser = await Accounts.SignInAsync(strict, email);
        var room = (await (await api.PostAsJsonAsync("/api/chat/rooms", new { name = "porch", isPrivate = false }, Ct)).Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetGuid();
        var url = $"/chat/rooms/{room}";
        var page = await browser.GetDocumentAsync(url);

        var first = await browser.SubmitAsync(page, "#send", new Dictionary<string, string> { ["Text"] = "good morning" }, pageUrl: url);
        var second = await browser.SubmitAsync(page, "#send", new Dictionary<string, string> { ["Text"] = "see you later" }, pageUrl: url);
        var third = await api.PostAsJsonAsync($"/api/chat/rooms/{room}/messages", new { text = "from a script" }, Ct);
        var refusedPage = await browser.SubmitAsync(page, "#send", new Dictionary<string, string> { ["Text"] = "one too many" }, pageUrl: url);
        var refusedApi = await api.PostAsJsonAsync($"/api/chat/rooms/{room}/messages", new { text = "and another" }, Ct);

        Assert.Equal([HttpStatusCode.Redirect, HttpStatusCode.Redirect, HttpStatusCode.Created], new[] { first.StatusCode, second.StatusCode, third.StatusCode });
        Assert.Equal(HttpStatusCode.TooManyRequests, refusedPage.StatusCode);
        Assert.NotNull(refusedPage.Headers.RetryAfter);
        var refused = await HtmlForms.ParseAsync(refusedPage);
        Assert.Contains("Chat:SendLimit", refused.QuerySelector("[role=alert]")!.TextContent);
        Assert.Equal("one too many", refused.QuerySelector("#text")!.TextContent);   // what was typed stays in the box
        Assert.Equal(HttpStatusCode.TooManyRequests, refusedApi.StatusCode);
        Assert.Equal("application/problem+json", refusedApi.Content.Headers.ContentType?.MediaType);
        Assert.NotNull(refusedApi.Headers.RetryAfter);
        Assert.Equal(3, (await api.GetFromJsonAsync<JsonElement>($"{url.Replace("/chat/", "/api/chat/")}/messages", Ct)).GetArrayLength());
    }
}
