using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using BirbalAI.Contracts.Identity;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace BirbalAI.IntegrationTests.Chat;

/// <summary>Watched words in chat: blocked, held, flagged (visible, sent to review), censored and replaced as the room sees them.</summary>
public sealed class ChatWatchedWordsTests : IAsyncLifetime
{
    readonly App app = new();

    public async ValueTask InitializeAsync()
    {
        await app.InitializeAsync();
        app.WithStarterModel().With("Chat:SendLimit", "1000");
    }

    public ValueTask DisposeAsync() => app.DisposeAsync();

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    const string Base = "Thanks for the help with the garden today, see you at the market on Saturday";

    sealed record Person(HttpClient Client, Guid Id, string Email);

    async Task<Person> PersonAsync()
    {
        var (client, _, id, email) = await Accounts.PersonAsync(app, Roles.Member);
        return new Person(client, id, email);
    }

    async Task WatchAsync(params object[] entries)
    {
        var (admin, _, _) = await Accounts.WithApiKeyAsync(app, Roles.Admin);
        foreach (var entry in entries)
            Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/api/ml/watched-words", entry, Ct)).StatusCode);
    }

    static async Task<Guid> RoomAsync(Person owner, Person other)
    {
        var created = await owner.Client.PostAsJsonAsync("/api/chat/rooms", new { name = "allotment", isPrivate = false }, Ct);
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetGuid();
        Assert.Equal(HttpStatusCode.Accepted, (await owner.Client.PostAsJsonAsync($"/api/chat/rooms/{id}/members", new { email = other.Email }, Ct)).StatusCode);
        return id;
    }

    static async Task<JsonElement> SendAsync(Person who, Guid room, string text)
    {
        var response = await who.Client.PostAsJsonAsync($"/api/chat/rooms/{room}/messages", new { text }, Ct);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
    }

    static async Task<List<JsonElement>> HistoryAsync(Person who, Guid room) =>
        (await who.Client.GetFromJsonAsync<JsonElement>($"/api/chat/rooms/{room}/messages", Ct)).EnumerateArray().ToList();

    [Fact]
    public async Task Each_action_decides_what_the_room_sees_and_what_goes_to_review()
    {
        await WatchAsync(
            new { pattern = "marrow", action = "block" },
            new { pattern = "pumpkin", action = "require-approval" },
            new { pattern = "turnip", action = "flag" },
            new { pattern = "parsnip", action = "censor" },
            new { pattern = "radish", action = "replace", replacement = "veg" },
            new { pattern = "courgette", action = "add-category", category = "hate" });
        Person ann = await PersonAsync(), bob = await PersonAsync();
        var room = await RoomAsync(ann, bob);

        var blocked = await SendAsync(ann, room, $"{Base} m4rrow");
        var held = await SendAsync(ann, room, $"{Base} p u m p k i n");
        var flagged = await SendAsync(ann, room, $"{Base} turnip");
        var censored = await SendAsync(ann, room, $"{Base} **pаrsnip**");
        var replaced = await SendAsync(ann, room, $"{Base} Radish");
        var categorised = await SendAsync(ann, room, $"{Base} c0urgette");

        Assert.Equal(["rejected", "held", "approved", "approved", "approved", "rejected"],
            new[] { blocked, held, flagged, censored, replaced, categorised }.Select(m => m.GetProperty("status").GetString()));
        Assert.Equal(["watched word: marrow"], blocked.GetProperty("flagged").EnumerateArray().Select(f => f.GetString()));
        Assert.Equal(["hate"], categorised.GetProperty("flagged").EnumerateArray().Select(f => f.GetString()));
        Assert.Equal(1f, categorised.GetProperty("scores").GetProperty("hate").GetSingle());
        var seen = await HistoryAsync(bob, room);
        Assert.Equal(new[] { flagged, censored, replaced }.Select(m => m.GetProperty("id").GetGuid()), seen.Select(m => m.GetProperty("id").GetGuid()));
        Assert.Equal($"{Base} **■■■■■■■**", seen[1].GetProperty("text").GetString());
        Assert.Contains("<strong>■■■■■■■</strong>", seen[1].GetProperty("html").GetString());
        Assert.Equal($"{Base} veg", seen[2].GetProperty("text").GetString());
        Assert.DoesNotContain(seen, m => m.GetRawText().Contains("rsnip") || m.GetRawText().Contains("adish"));

        await using var connection = await app.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync(Ct);
        var stored = await connection.QuerySingleAsync<(string Text, string DisplayText, string Watched, int PolicyVersion)>(
            "select text, display_text, watched->0->>'Pattern', policy_version from chat.messages where id = @Id", new { Id = censored.GetProperty("id").GetGuid() });
        Assert.Equal(($"{Base} **pаrsnip**", $"{Base} **■■■■■■■**", 7), (stored.Text, stored.DisplayText, stored.PolicyVersion));
        Assert.Equal("parsnip", stored.Watched);
        Assert.True(await connection.ExecuteScalarAsync<bool>("select flagged_for_review from chat.messages where id = @Id", new { Id = flagged.GetProperty("id").GetGuid() }));
        var flaggedEvent = await connection.QuerySingleAsync<string>("select payload::text from platform.outbox where wire_name = 'chat.message-flagged.v1'");
        Assert.Contains(flagged.GetProperty("id").GetGuid().ToString(), flaggedEvent);
        Assert.Contains("watched word: turnip", flaggedEvent);
        var heldEvent = await connection.QuerySingleAsync<string>("select payload::text from platform.outbox where wire_name = 'chat.message-held.v1'");
        Assert.Contains(held.GetProperty("id").GetGuid().ToString(), heldEvent);
        Assert.Contains("p u m p k i n", heldEvent);   // reviewers get the text as written
    }

    [Fact]
    public async Task An_edit_is_matched_again_and_the_author_sees_the_censored_form_too()
    {
        await WatchAsync(new { pattern = "parsnip", action = "censor" });
        Person ann = await PersonAsync(), bob = await PersonAsync();
        var room = await RoomAsync(ann, bob);
        var message = await SendAsync(ann, room, Base);

        var edited = await ann.Client.PutAsJsonAsync($"/api/chat/messages/{message.GetProperty("id").GetGuid()}", new { text = $"{Base} PARSNIP" }, Ct);

        Assert.Equal(HttpStatusCode.OK, edited.StatusCode);
        Assert.Equal($"{Base} ■■■■■■■", (await edited.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("text").GetString());
        Assert.Equal($"{Base} ■■■■■■■", (await HistoryAsync(bob, room)).Single().GetProperty("text").GetString());
    }
}
