using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using BirbalAI.Contracts.Identity;
using BirbalAI.Testing;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace BirbalAI.IntegrationTests.Abuse;

/// <summary>
/// The standing abuse suite, concurrency part: every "exactly once" decision and every counted limit holds when the
/// same thing is asked many times at once. Modules that add such an update add it here.
/// </summary>
public sealed class ConcurrencyTests(ConcurrencyTests.Fixture fixture) : IClassFixture<ConcurrencyTests.Fixture>
{
    /// <summary>One app for the class, with the policy that holds instead of rejecting saved once: each test works with its own people, rooms and messages.</summary>
    public sealed class Fixture : IAsyncLifetime
    {
        public App App { get; } = new();

        public async ValueTask InitializeAsync()
        {
            await App.InitializeAsync();
            App.WithStarterModel().With("Chat:SendLimit", "1000").With("Identity:ApiPerClientLimit", "10000");
            await StarterModels.HoldNeverRejectAsync(App);
        }

        public ValueTask DisposeAsync() => App.DisposeAsync();
    }

    const int Parallel = 12;
    readonly App app = fixture.App;

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    sealed record Person(HttpClient Client, Guid Id, string Email);

    static async Task<Person> PersonAsync(App app, string role = Roles.Member)
    {
        var (client, _, id, email) = await Accounts.PersonAsync(app, role);
        return new Person(client, id, email);
    }

    static async Task<Guid> RoomAsync(Person owner, params Person[] members)
    {
        var created = await owner.Client.PostAsJsonAsync("/api/chat/rooms", new { name = "busy room", isPrivate = false }, Ct);
        var room = (await created.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetGuid();
        foreach (var member in members)
            Assert.Equal(HttpStatusCode.Accepted, (await owner.Client.PostAsJsonAsync($"/api/chat/rooms/{room}/members", new { email = member.Email, moderator = true }, Ct)).StatusCode);
        return room;
    }

    static async Task<Guid> SendAsync(Person who, Guid room, string text)
    {
        var response = await who.Client.PostAsJsonAsync($"/api/chat/rooms/{room}/messages", new { text }, Ct);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetGuid();
    }

    async Task<NpgsqlConnection> DatabaseAsync() => await app.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync(Ct);

    /// <summary>Releases every call at the same moment, then waits for all.</summary>
    static async Task<HttpResponseMessage[]> AtOnceAsync(IEnumerable<Func<Task<HttpResponseMessage>>> calls)
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var tasks = calls.Select(async call => { await gate.Task; return await call(); }).ToList();
        gate.SetResult();
        return await Task.WhenAll(tasks);
    }

    async Task<(Person First, Person Second, Guid Held)> HeldMessageWithTwoModeratorsAsync()
    {
        Person owner = await PersonAsync(app), other = await PersonAsync(app), author = await PersonAsync(app);
        var room = await RoomAsync(owner, other);
        Assert.Equal(HttpStatusCode.Accepted, (await owner.Client.PostAsJsonAsync($"/api/chat/rooms/{room}/members", new { email = author.Email }, Ct)).StatusCode);
        return (owner, other, await SendAsync(author, room, StarterModels.Threat));
    }

    async Task<List<(string Kind, string Was)>> DecisionsAsync(Guid message)
    {
        await using var connection = await DatabaseAsync();
        return (await connection.QueryAsync<(string, string)>("""
            select kind, details->>'was' from identity.audit_log
            where kind in ('chat.message-released', 'chat.message-removed') and subject = @Subject order by at, id
            """, new { Subject = $"message {message}" })).ToList();
    }

    [Theory]
    [InlineData("release")]
    [InlineData("remove")]
    public async Task Two_moderators_deciding_alike_on_one_held_message_at_once_decide_once_with_one_audit_entry(string decision)
    {
        var (first, second, held) = await HeldMessageWithTwoModeratorsAsync();

        var answers = await AtOnceAsync(Enumerable.Range(0, Parallel).Select(i => (Func<Task<HttpResponseMessage>>)(() =>
            (i % 2 == 0 ? first : second).Client.PostAsync($"/api/chat/messages/{held}/{decision}", null, Ct))));

        Assert.Single(answers, a => a.StatusCode == HttpStatusCode.OK);
        Assert.All(answers, a => Assert.Contains(a.StatusCode, new[] { HttpStatusCode.OK, HttpStatusCode.Conflict }));
        Assert.Equal([(decision == "release" ? "chat.message-released" : "chat.message-removed", "held")], await DecisionsAsync(held));
    }

    [Fact]
    public async Task A_release_and_a_removal_at_once_each_apply_only_to_the_status_they_were_decided_on()
    {
        var (first, second, held) = await HeldMessageWithTwoModeratorsAsync();

        var answers = await AtOnceAsync(Enumerable.Range(0, Parallel).Select(i => (Func<Task<HttpResponseMessage>>)(() => i % 2 == 0
            ? first.Client.PostAsync($"/api/chat/messages/{held}/release", null, Ct)
            : second.Client.PostAsync($"/api/chat/messages/{held}/remove", null, Ct))));

        // One decision on the held message; at most a later removal of the then published one, recorded as such.
        var decisions = await DecisionsAsync(held);
        Assert.Equal(answers.Count(a => a.StatusCode == HttpStatusCode.OK), decisions.Count);
        Assert.All(answers, a => Assert.Contains(a.StatusCode, new[] { HttpStatusCode.OK, HttpStatusCode.Conflict }));
        Assert.Equal("held", decisions[0].Was);
        if (decisions.Count > 1) Assert.Equal([("chat.message-released", "held"), ("chat.message-removed", "approved")], decisions);
    }

    [Fact]
    public async Task Concurrent_edits_of_one_message_never_overwrite_a_hold_and_store_one_whole_edit()
    {
        var author = await PersonAsync(app);
        var room = await RoomAsync(author);
        var message = await SendAsync(author, room, StarterModels.Clean);
        var texts = Enumerable.Range(0, Parallel - 1).Select(i => $"{StarterModels.Clean} ({i})").Append(StarterModels.Threat).ToList();

        var answers = await AtOnceAsync(texts.Select(text => (Func<Task<HttpResponseMessage>>)(() =>
            author.Client.PutAsJsonAsync($"/api/chat/messages/{message}", new { text }, Ct))));

        Assert.All(answers, a => Assert.Contains(a.StatusCode, new[] { HttpStatusCode.OK, HttpStatusCode.Conflict }));
        Assert.Equal(HttpStatusCode.OK, answers[^1].StatusCode);   // the toxic edit always lands: only a hold stops edits
        await using var connection = await DatabaseAsync();
        var stored = await connection.QuerySingleAsync<(string Text, string Html, string Status)>(
            "select text, html, status from chat.messages where id = @Id", new { Id = message });
        Assert.Equal(("held", StarterModels.Threat), (stored.Status, stored.Text));   // a clean edit after it would have published it unreviewed
        Assert.Contains("kill you", stored.Html);                                      // text and its rendering from the same edit
        Assert.Equal(1, await connection.ExecuteScalarAsync<int>(
            "select count(*) from platform.outbox where wire_name = 'chat.message-held.v1' and payload::text like @Id", new { Id = $"%{message}%" }));
    }

    [Fact]
    public async Task Concurrent_posts_past_the_send_limit_never_store_more_than_the_limit_through_page_and_api_together()
    {
        await using var strict = App.ReplicaOf(app);
        strict.WithStarterModel().With("Chat:SendLimit", "5");
        var (api, _, authorId, email) = await Accounts.PersonAsync(strict, Roles.Member);
        var browser = await Accounts.SignInAsync(strict, email);
        var room = (await (await api.PostAsJsonAsync("/api/chat/rooms", new { name = "flood", isPrivate = false }, Ct)).Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetGuid();
        var url = $"/chat/rooms/{room}";
        var page = await browser.GetDocumentAsync(url);

        var answers = await AtOnceAsync(Enumerable.Range(0, 2 * Parallel).Select(i => (Func<Task<HttpResponseMessage>>)(() => i % 2 == 0
            ? api.PostAsJsonAsync($"/api/chat/rooms/{room}/messages", new { text = $"flood {i}" }, Ct)
            : browser.SubmitAsync(page, "#send", new Dictionary<string, string> { ["Text"] = $"flood {i}" }, pageUrl: url))));

        Assert.Equal(5, answers.Count(a => a.StatusCode is HttpStatusCode.Created or HttpStatusCode.Redirect));
        Assert.Equal(2 * Parallel - 5, answers.Count(a => a.StatusCode == HttpStatusCode.TooManyRequests));
        await using var connection = await DatabaseAsync();
        Assert.Equal(5, await connection.ExecuteScalarAsync<int>("select count(*) from chat.messages where author_id = @AuthorId", new { AuthorId = authorId }));
    }

    [Fact]
    public async Task Concurrent_joins_of_one_room_make_one_membership()
    {
        Person owner = await PersonAsync(app), joiner = await PersonAsync(app);
        var room = await RoomAsync(owner);

        var joins = await AtOnceAsync(Enumerable.Range(0, Parallel).Select(_ => (Func<Task<HttpResponseMessage>>)(() =>
            joiner.Client.PostAsync($"/api/chat/rooms/{room}/join", null, Ct))));
        var adds = await AtOnceAsync(Enumerable.Range(0, Parallel).Select(_ => (Func<Task<HttpResponseMessage>>)(() =>
            owner.Client.PostAsJsonAsync($"/api/chat/rooms/{room}/members", new { email = joiner.Email }, Ct))));

        Assert.All(joins, a => Assert.Equal(HttpStatusCode.NoContent, a.StatusCode));
        Assert.All(adds, a => Assert.Equal(HttpStatusCode.Accepted, a.StatusCode));
        await using var connection = await DatabaseAsync();
        Assert.Equal(1, await connection.ExecuteScalarAsync<int>(
            "select count(*) from chat.members where room_id = @Room and user_id = @User", new { Room = room, User = joiner.Id }));
    }
}
