using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using BirbalAI.Contracts.Identity;
using BirbalAI.Testing;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace BirbalAI.IntegrationTests.Chat;

/// <summary>
/// Rooms and messages over REST: moderated before anyone sees them; held ones never leak. One app for the class, with the
/// policy that holds instead of rejecting saved once (version 2); each test works with its own people and rooms.
/// </summary>
public sealed class ChatTests(ChatTests.Fixture fixture) : IClassFixture<ChatTests.Fixture>
{
    public sealed class Fixture : IAsyncLifetime
    {
        public App App { get; } = new();

        public async ValueTask InitializeAsync()
        {
            await App.InitializeAsync();
            App.WithStarterModel().With("Chat:SendLimit", "1000");
            await StarterModels.HoldNeverRejectAsync(App);
        }

        public ValueTask DisposeAsync() => App.DisposeAsync();
    }

    readonly App app = fixture.App;

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    public sealed record Person(HttpClient Client, Guid Id, string Email);

    Task<Person> PersonAsync(string role = Roles.Member) => PersonAsync(app, role);

    internal static async Task<Person> PersonAsync(App app, string role = Roles.Member)
    {
        var (client, _, id, email) = await Accounts.PersonAsync(app, role);
        return new Person(client, id, email);
    }

    /// <summary>A room made by <paramref name="owner"/> (its moderator) with <paramref name="others"/> in it.</summary>
    internal static async Task<Guid> RoomAsync(Person owner, bool isPrivate, params Person[] others)
    {
        var created = await owner.Client.PostAsJsonAsync("/api/chat/rooms", new { name = "garden club", isPrivate }, Ct);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetGuid();
        foreach (var other in others)
            Assert.Equal(HttpStatusCode.Accepted, (await owner.Client.PostAsJsonAsync($"/api/chat/rooms/{id}/members", new { email = other.Email }, Ct)).StatusCode);
        return id;
    }

    internal static async Task<JsonElement> SendAsync(Person who, Guid room, string text)
    {
        var response = await who.Client.PostAsJsonAsync($"/api/chat/rooms/{room}/messages", new { text }, Ct);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
    }

    internal static async Task<List<JsonElement>> HistoryAsync(Person who, Guid room) =>
        (await who.Client.GetFromJsonAsync<JsonElement>($"/api/chat/rooms/{room}/messages", Ct)).EnumerateArray().ToList();

    [Fact]
    public async Task A_clean_message_reaches_the_room_and_a_held_one_only_its_author_with_the_event_in_the_outbox()
    {
        Person ann = await PersonAsync(), bob = await PersonAsync();
        var room = await RoomAsync(ann, isPrivate: false, bob);

        var clean = await SendAsync(ann, room, StarterModels.Clean);
        var held = await SendAsync(ann, room, StarterModels.Threat);

        Assert.Equal("approved", clean.GetProperty("status").GetString());
        Assert.Equal("held", held.GetProperty("status").GetString());
        Assert.Equal([clean.GetProperty("id").GetGuid()], (await HistoryAsync(bob, room)).Select(m => m.GetProperty("id").GetGuid()));
        Assert.Equal(["approved", "held"], (await HistoryAsync(ann, room)).Select(m => m.GetProperty("status").GetString()));
        var rooms = await bob.Client.GetFromJsonAsync<JsonElement>("/api/chat/rooms", Ct);
        Assert.Equal(0, rooms.EnumerateArray().Single(r => r.GetProperty("id").GetGuid() == room).GetProperty("unread").GetInt64());   // read just now
        await using var connection = await app.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync(Ct);
        var payloads = await connection.QueryAsync<string>("select payload::text from platform.outbox where wire_name = 'chat.message-held.v1'");
        Assert.Single(payloads, p => p.Contains(held.GetProperty("id").GetGuid().ToString()));
        var stored = await connection.QuerySingleAsync<(int ModelVersion, int PolicyVersion, string Scores)>(
            "select model_version, policy_version, scores::text from chat.messages where id = @Id", new { Id = held.GetProperty("id").GetGuid() });
        Assert.Equal((1, 2), (stored.ModelVersion, stored.PolicyVersion));
        Assert.Contains("harassment", stored.Scores);
    }

    [Fact]
    public async Task Unread_counts_only_approved_messages_of_others()
    {
        Person ann = await PersonAsync(), bob = await PersonAsync();
        var room = await RoomAsync(ann, isPrivate: false, bob);
        await bob.Client.GetAsync($"/api/chat/rooms/{room}/messages", Ct);   // bob has read the room

        await SendAsync(ann, room, StarterModels.Clean);
        await SendAsync(ann, room, StarterModels.Threat);

        var rooms = await bob.Client.GetFromJsonAsync<JsonElement>("/api/chat/rooms", Ct);
        Assert.Equal(1, rooms.EnumerateArray().Single(r => r.GetProperty("id").GetGuid() == room).GetProperty("unread").GetInt64());
    }

    [Fact]
    public async Task An_edit_that_turns_a_clean_message_toxic_is_held_again_and_leaves_the_room()
    {
        Person ann = await PersonAsync(), bob = await PersonAsync();
        var room = await RoomAsync(ann, isPrivate: false, bob);
        var id = (await SendAsync(ann, room, StarterModels.Clean)).GetProperty("id").GetGuid();
        Assert.Single(await HistoryAsync(bob, room));

        var edited = await ann.Client.PutAsJsonAsync($"/api/chat/messages/{id}", new { text = StarterModels.Threat }, Ct);

        Assert.Equal("held", (await edited.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("status").GetString());
        Assert.Empty(await HistoryAsync(bob, room));
        Assert.Equal(HttpStatusCode.NotFound, (await bob.Client.PutAsJsonAsync($"/api/chat/messages/{id}", new { text = "mine now" }, Ct)).StatusCode);
    }

    [Fact]
    public async Task A_room_moderator_releases_a_held_message_into_its_original_place_audited_and_a_member_may_not()
    {
        Person mod = await PersonAsync(), ann = await PersonAsync(), bob = await PersonAsync();
        var room = await RoomAsync(mod, isPrivate: false, ann, bob);
        var held = (await SendAsync(ann, room, StarterModels.Threat)).GetProperty("id").GetGuid();
        var later = (await SendAsync(bob, room, StarterModels.Clean)).GetProperty("id").GetGuid();

        var queue = await mod.Client.GetFromJsonAsync<JsonElement>("/api/chat/review", Ct);
        Assert.Equal([held], queue.EnumerateArray().Select(m => m.GetProperty("id").GetGuid()));
        Assert.Empty((await bob.Client.GetFromJsonAsync<JsonElement>("/api/chat/review", Ct)).EnumerateArray());
        Assert.Equal(HttpStatusCode.Forbidden, (await bob.Client.PostAsync($"/api/chat/messages/{held}/release", null, Ct)).StatusCode);

        Assert.Equal(HttpStatusCode.OK, (await mod.Client.PostAsync($"/api/chat/messages/{held}/release", null, Ct)).StatusCode);

        Assert.Equal([held, later], (await HistoryAsync(bob, room)).Select(m => m.GetProperty("id").GetGuid()));
        Assert.Equal(HttpStatusCode.Conflict, (await mod.Client.PostAsync($"/api/chat/messages/{held}/release", null, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await mod.Client.PostAsync($"/api/chat/messages/{later}/remove", null, Ct)).StatusCode);
        Assert.Equal([held], (await HistoryAsync(bob, room)).Select(m => m.GetProperty("id").GetGuid()));
        await using var connection = await app.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync(Ct);
        Assert.Equal(["chat.message-released", "chat.message-removed"], (await connection.QueryAsync<string>(
            "select kind from identity.audit_log where kind like 'chat.message-%' and actor_id = @Id order by at", new { mod.Id })).ToList());
    }

    [Fact]
    public async Task Two_reviewers_deciding_at_once_decide_once()
    {
        Person mod = await PersonAsync(), ann = await PersonAsync();
        var room = await RoomAsync(mod, isPrivate: false, ann);
        var held = (await SendAsync(ann, room, StarterModels.Threat)).GetProperty("id").GetGuid();

        var answers = await Task.WhenAll(
            mod.Client.PostAsync($"/api/chat/messages/{held}/release", null, Ct),
            mod.Client.PostAsync($"/api/chat/messages/{held}/release", null, Ct));

        Assert.Single(answers, a => a.StatusCode == HttpStatusCode.OK);
        Assert.Single(answers, a => a.StatusCode == HttpStatusCode.Conflict);
        await using var connection = await app.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync(Ct);
        Assert.Equal(1, await connection.ExecuteScalarAsync<int>(
            "select count(*) from identity.audit_log where kind = 'chat.message-released' and subject = @Subject", new { Subject = $"message {held}" }));
    }

    [Fact]
    public async Task Html_and_script_never_come_back_executable()
    {
        Person ann = await PersonAsync(), bob = await PersonAsync();
        var room = await RoomAsync(ann, isPrivate: false, bob);

        await SendAsync(ann, room, "**hello** <script>alert(1)</script> <img src=x onerror=alert(2)> [click](javascript:alert(3)) [ok](https://example.org)");

        var html = (await HistoryAsync(bob, room)).Single().GetProperty("html").GetString()!;
        var body = new AngleSharp.Html.Parser.HtmlParser().ParseDocument($"<body>{html}</body>").Body!;
        Assert.Equal("hello", body.QuerySelector("strong")?.TextContent);
        Assert.Empty(body.QuerySelectorAll("script, img, iframe, style"));
        Assert.DoesNotContain(body.QuerySelectorAll("*"), e => e.Attributes.Any(a => a.Name.StartsWith("on", StringComparison.Ordinal)));
        Assert.Equal(["https://example.org"], body.QuerySelectorAll("a[href]").Select(a => a.GetAttribute("href")));
        Assert.Contains("&lt;script&gt;", html);   // shown as text, not run
    }

    [Fact]
    public async Task Private_rooms_are_invisible_to_outsiders_public_ones_are_joined_and_archived_ones_are_read_only()
    {
        Person ann = await PersonAsync(), eve = await PersonAsync();
        var secret = await RoomAsync(ann, isPrivate: true);
        var open = await RoomAsync(ann, isPrivate: false);

        Assert.Equal(HttpStatusCode.NotFound, (await eve.Client.GetAsync($"/api/chat/rooms/{secret}/messages", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await eve.Client.PostAsync($"/api/chat/rooms/{secret}/join", null, Ct)).StatusCode);
        var listed = (await eve.Client.GetFromJsonAsync<JsonElement>("/api/chat/rooms", Ct)).EnumerateArray().Select(r => r.GetProperty("id").GetGuid()).ToList();
        Assert.DoesNotContain(secret, listed);
        Assert.Contains(open, listed);
        Assert.Equal(HttpStatusCode.Forbidden, (await eve.Client.PostAsJsonAsync($"/api/chat/rooms/{open}/messages", new { text = "hi" }, Ct)).StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await eve.Client.PostAsync($"/api/chat/rooms/{open}/join", null, Ct)).StatusCode);
        await SendAsync(eve, open, "hello all");
        Assert.Equal(HttpStatusCode.Forbidden, (await eve.Client.PostAsync($"/api/chat/rooms/{open}/archive", null, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await ann.Client.PostAsync($"/api/chat/rooms/{open}/archive", null, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await eve.Client.PostAsJsonAsync($"/api/chat/rooms/{open}/messages", new { text = "hi" }, Ct)).StatusCode);
    }

    [Fact]
    public async Task Bad_input_gets_problem_details_and_the_send_rate_limit_answers_429()
    {
        await using var strict = App.ReplicaOf(app);
        strict.WithStarterModel().With("Chat:SendLimit", "1").With("Chat:MaxMessageLength", "20");   // a refused text uses no send
        var (client, _, _) = await Accounts.WithApiKeyAsync(strict, Roles.Member);
        var room = (await (await client.PostAsJsonAsync("/api/chat/rooms", new { name = "limits", isPrivate = false }, Ct)).Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetGuid();

        var empty = await client.PostAsJsonAsync("/api/chat/rooms", new { name = "  ", isPrivate = false }, Ct);
        var tooLong = await client.PostAsJsonAsync($"/api/chat/rooms/{room}/messages", new { text = new string('a', 21) }, Ct);
        var ok = await client.PostAsJsonAsync($"/api/chat/rooms/{room}/messages", new { text = "hello" }, Ct);
        var limited = await client.PostAsJsonAsync($"/api/chat/rooms/{room}/messages", new { text = "again" }, Ct);

        Assert.Equal(HttpStatusCode.BadRequest, empty.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, tooLong.StatusCode);
        Assert.Contains("Chat:MaxMessageLength", await tooLong.Content.ReadAsStringAsync(Ct));
        Assert.Equal(HttpStatusCode.Created, ok.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.Equal("application/problem+json", limited.Content.Headers.ContentType?.MediaType);
        Assert.Contains("Chat:SendLimit", await limited.Content.ReadAsStringAsync(Ct));
        Assert.NotNull(limited.Headers.RetryAfter);
    }

    [Fact]
    public async Task A_removed_member_can_no_longer_edit_or_delete_their_messages_and_nobody_can_in_an_archived_room()
    {
        Person mod = await PersonAsync(), ann = await PersonAsync(), bob = await PersonAsync();
        var room = await RoomAsync(mod, isPrivate: false, ann, bob);
        var annMessage = (await SendAsync(ann, room, "good morning")).GetProperty("id").GetGuid();
        var bobMessage = (await SendAsync(bob, room, "see you later")).GetProperty("id").GetGuid();
        Assert.Equal(HttpStatusCode.NoContent, (await mod.Client.DeleteAsync($"/api/chat/rooms/{room}/members/{ann.Id}", Ct)).StatusCode);

        var removedEdit = await ann.Client.PutAsJsonAsync($"/api/chat/messages/{annMessage}", new { text = "rewritten after I was removed" }, Ct);
        var removedDelete = await ann.Client.DeleteAsync($"/api/chat/messages/{annMessage}", Ct);
        Assert.Equal(HttpStatusCode.NoContent, (await mod.Client.PostAsync($"/api/chat/rooms/{room}/archive", null, Ct)).StatusCode);
        var archivedEdit = await bob.Client.PutAsJsonAsync($"/api/chat/messages/{bobMessage}", new { text = "rewritten in the archive" }, Ct);
        var archivedDelete = await bob.Client.DeleteAsync($"/api/chat/messages/{bobMessage}", Ct);

        Assert.Equal(HttpStatusCode.Forbidden, removedEdit.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, removedDelete.StatusCode);
        Assert.Equal("application/problem+json", removedEdit.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.Conflict, archivedEdit.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, archivedDelete.StatusCode);
        Assert.Contains("archived", await archivedDelete.Content.ReadAsStringAsync(Ct));
        Assert.Equal(["good morning", "see you later"], (await HistoryAsync(mod, room)).Select(m => m.GetProperty("text").GetString()));
    }

    [Fact]
    public async Task Adding_a_member_by_email_answers_alike_whether_or_not_the_email_has_an_account()
    {
        Person mod = await PersonAsync(), bob = await PersonAsync();
        var room = await RoomAsync(mod, isPrivate: true);

        var existing = await mod.Client.PostAsJsonAsync($"/api/chat/rooms/{room}/members", new { email = bob.Email }, Ct);
        var unknown = await mod.Client.PostAsJsonAsync($"/api/chat/rooms/{room}/members", new { email = $"nobody-{Guid.NewGuid():N}"[..24] + "@example.org" }, Ct);

        Assert.Equal(HttpStatusCode.Accepted, existing.StatusCode);
        Assert.Equal(existing.StatusCode, unknown.StatusCode);
        Assert.Equal(existing.Content.Headers.ContentType?.ToString(), unknown.Content.Headers.ContentType?.ToString());
        Assert.Equal(await existing.Content.ReadAsStringAsync(Ct), await unknown.Content.ReadAsStringAsync(Ct));
        Assert.Equal(HttpStatusCode.OK, (await bob.Client.GetAsync($"/api/chat/rooms/{room}/messages", Ct)).StatusCode);   // bob is in
        Assert.Equal(HttpStatusCode.BadRequest, (await mod.Client.PostAsJsonAsync($"/api/chat/rooms/{room}/members", new { email = " " }, Ct)).StatusCode);
    }
}

/// <summary>A rejection needs the default policy, which <see cref="ChatTests"/> replaces: this test keeps an app of its own.</summary>
public sealed class ChatRejectionTests : IAsyncLifetime
{
    readonly App app = new();

    public async ValueTask InitializeAsync()
    {
        await app.InitializeAsync();
        app.WithStarterModel().With("Chat:SendLimit", "1000");
    }

    public ValueTask DisposeAsync() => app.DisposeAsync();

    [Fact]
    public async Task A_rejected_message_is_refused_with_its_categories_and_shown_to_nobody_else()
    {
        ChatTests.Person ann = await ChatTests.PersonAsync(app), bob = await ChatTests.PersonAsync(app);
        var room = await ChatTests.RoomAsync(ann, isPrivate: false, bob);

        var rejected = await ChatTests.SendAsync(ann, room, StarterModels.Threat);

        Assert.Equal("rejected", rejected.GetProperty("status").GetString());
        Assert.Contains("harassment", rejected.GetProperty("flagged").EnumerateArray().Select(f => f.GetString()));
        Assert.Empty(await ChatTests.HistoryAsync(bob, room));
        Assert.Single(await ChatTests.HistoryAsync(ann, room));
    }
}
