using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Text.Json;
using BirbalAI.Contracts.Identity;
using BirbalAI.Testing;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;

namespace BirbalAI.IntegrationTests.Chat;

/// <summary>The hub across two replicas sharing Redis: what reaches whom, live.</summary>
public sealed class LiveChatTests : TwoReplicas
{
    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        First.WithStarterModel();
        Second.WithStarterModel();
    }

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    sealed class Listener(HubConnection connection) : IAsyncDisposable
    {
        public ConcurrentQueue<JsonElement> Messages { get; } = new();
        public ConcurrentQueue<JsonElement> Typing { get; } = new();
        public HubConnection Connection => connection;
        public ValueTask DisposeAsync() => connection.DisposeAsync();
    }

    /// <summary>A non-browser client of <paramref name="app"/>'s hub, authenticated with an API key or a JWT.</summary>
    static async Task<Listener> ListenAsync(App app, string key, bool asQuery = false)
    {
        var connection = ChatHubs.Connect(app, key, asQuery);
        var listener = new Listener(connection);
        connection.On<JsonElement>("message", m => listener.Messages.Enqueue(m));
        connection.On<JsonElement>("typing", t => listener.Typing.Enqueue(t));
        await connection.StartAsync(Ct);
        return listener;
    }

    [Fact]
    public async Task A_jwt_client_joins_and_hub_methods_answer_only_members()
    {
        var (ann, _, _) = await Accounts.WithApiKeyAsync(First, Roles.Member);
        var (_, eveEmail) = await Accounts.CreateAsync(First, Roles.Member);
        var token = (await (await First.CreateClient().PostAsJsonAsync("/api/auth/token", new { email = eveEmail, password = Accounts.Password }, Ct))
            .Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("access_token").GetString()!;
        var room = (await (await ann.PostAsJsonAsync("/api/chat/rooms", new { name = "members only", isPrivate = true }, Ct)).Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetGuid();

        await using var eve = await ListenAsync(Second, token);               // a JWT in the header
        await using var eveQuery = await ListenAsync(Second, token, asQuery: true);   // and as ?access_token=, as browsers send it

        // Not a member: learns nothing, signals nothing.
        Assert.Contains("not in that room", (await Assert.ThrowsAsync<HubException>(() => eve.Connection.InvokeAsync<List<Guid>>("Online", room, Ct))).Message);
        await Assert.ThrowsAsync<HubException>(() => eve.Connection.InvokeAsync("Typing", room, Ct));
        var open = (await (await ann.PostAsJsonAsync("/api/chat/rooms", new { name = "everyone", isPrivate = false }, Ct)).Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetGuid();
        var eveApi = Second.CreateClient();
        eveApi.DefaultRequestHeaders.Authorization = new("Bearer", token);
        await eveApi.PostAsync($"/api/chat/rooms/{open}/join", null, Ct);

        await ann.PostAsJsonAsync($"/api/chat/rooms/{room}/messages", new { text = StarterModels.Clean }, Ct);
        await ann.PostAsJsonAsync($"/api/chat/rooms/{open}/messages", new { text = "good morning all" }, Ct);

        // Eve's messages come in order on her user's channel: once the later one is in, the earlier would have been.
        await Eventually.TrueAsync(() => Task.FromResult(eve.Messages.Count > 0 && eveQuery.Messages.Count > 0), "eve gets the open room's message");
        Assert.All(eve.Messages.Concat(eveQuery.Messages), m => Assert.Equal(open, m.GetProperty("roomId").GetGuid()));
    }

    [Fact]
    public async Task A_message_sent_through_one_replica_reaches_a_client_of_the_other_and_a_held_one_only_its_author_until_released()
    {
        await StarterModels.HoldNeverRejectAsync(First);
        var (ann, annKey, _) = await Accounts.WithApiKeyAsync(First, Roles.Member);
        var (_, bobKey, bobId) = await Accounts.WithApiKeyAsync(First, Roles.Member);
        var room = (await (await ann.PostAsJsonAsync("/api/chat/rooms", new { name = "live", isPrivate = false }, Ct)).Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetGuid();
        var bobClient = Second.CreateClient();
        bobClient.DefaultRequestHeaders.Authorization = new("Bearer", bobKey);
        await bobClient.PostAsync($"/api/chat/rooms/{room}/join", null, Ct);
        await using var bob = await ListenAsync(Second, bobKey);
        await using var annLive = await ListenAsync(First, annKey);

        var held = (await (await ann.PostAsJsonAsync($"/api/chat/rooms/{room}/messages", new { text = StarterModels.Threat }, Ct)).Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetGuid();
        var clean = (await (await ann.PostAsJsonAsync($"/api/chat/rooms/{room}/messages", new { text = StarterModels.Clean }, Ct)).Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetGuid();

        await Eventually.TrueAsync(() => Task.FromResult(bob.Messages.Any(m => m.GetProperty("id").GetGuid() == clean)), "bob, on the other replica, gets the clean message");
        await Eventually.TrueAsync(() => Task.FromResult(annLive.Messages.Any(m => m.GetProperty("id").GetGuid() == held && m.GetProperty("status").GetString() == "held")),
            "ann gets her own held message, marked held");
        Assert.DoesNotContain(bob.Messages, m => m.GetProperty("id").GetGuid() == held);

        await bob.Connection.InvokeAsync("Typing", room, Ct);
        await Eventually.TrueAsync(() => Task.FromResult(annLive.Typing.Any(t => t.GetProperty("userId").GetGuid() == bobId)), "ann sees bob typing");
        var online = await annLive.Connection.InvokeAsync<List<Guid>>("Online", room, Ct);
        Assert.Contains(bobId, online);

        Assert.True((await ann.PostAsync($"/api/chat/messages/{held}/release", null, Ct)).IsSuccessStatusCode);   // ann moderates the room she made
        await Eventually.TrueAsync(() => Task.FromResult(bob.Messages.Any(m => m.GetProperty("id").GetGuid() == held && m.GetProperty("status").GetString() == "approved")),
            "bob gets the released message");
    }
}
