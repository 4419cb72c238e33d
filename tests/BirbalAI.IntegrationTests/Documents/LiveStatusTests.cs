using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using BirbalAI.Contracts.Annotation;
using BirbalAI.Contracts.Identity;
using BirbalAI.Testing;
using Dapper;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace BirbalAI.IntegrationTests.Documents;

/// <summary>
/// A document's status, live over /hubs/documents, in a deployment of one worker (it alone processes uploads and decisions)
/// and one web replica (it alone serves the hub): a change made on the worker reaches the owner's connection on the web
/// replica through the Redis backplane, and nobody else's; the hub's calls get Platform's per-call user check.
/// </summary>
public sealed class LiveStatusTests(LiveStatusTests.Deployment deployment) : IClassFixture<LiveStatusTests.Deployment>
{
    /// <summary>The two replicas, for the class: each test works with its own people and documents.</summary>
    public sealed class Deployment : TwoReplicas
    {
        public App Worker => First;
        public App Web => Second;

        public override async ValueTask InitializeAsync()
        {
            await base.InitializeAsync();
            Worker.WithStarterModel().With("role", "worker");
            Web.WithStarterModel().With("role", "web");
            await StarterModels.HoldNeverRejectAsync(Web);   // saved before the worker starts, which reads the policy then
            _ = Worker.Server;
        }
    }

    readonly App worker = deployment.Worker, web = deployment.Web;

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    sealed class Listener(HubConnection connection) : IAsyncDisposable
    {
        public ConcurrentQueue<JsonElement> Changes { get; } = new();
        public HubConnection Connection => connection;
        public bool Got(Guid document, string status) => Changes.Any(c => c.GetProperty("documentId").GetGuid() == document && c.GetProperty("status").GetString() == status);
        public ValueTask DisposeAsync() => connection.DisposeAsync();
    }

    /// <summary>
    /// A client of the web replica's documents hub over a WebSocket, as browsers connect: the key is checked once, when it
    /// connects, so what a later call meets is the hub's own check (over long polling each request is authenticated again).
    /// </summary>
    async Task<Listener> ListenAsync(string key)
    {
        var connection = new HubConnectionBuilder().WithUrl(new Uri(web.Server.BaseAddress, "/hubs/documents"), o =>
        {
            o.HttpMessageHandlerFactory = _ => web.Server.CreateHandler();
            o.Headers["Authorization"] = $"Bearer {key}";
            o.Transports = HttpTransportType.WebSockets;
            o.WebSocketFactory = async (context, ct) =>
            {
                var sockets = web.Server.CreateWebSocketClient();
                sockets.ConfigureRequest = request => request.Headers.Authorization = $"Bearer {key}";
                return await sockets.ConnectAsync(context.Uri, ct);
            };
        }).Build();
        var listener = new Listener(connection);
        connection.On<JsonElement>("status", c => listener.Changes.Enqueue(c));
        await connection.StartAsync(Ct);
        return listener;
    }

    static async Task<Guid> UploadAsync(HttpClient who, string text)
    {
        using var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(Encoding.UTF8.GetBytes(text));
        file.Headers.ContentType = new MediaTypeHeaderValue("text/plain");
        form.Add(file, "file", "notes.txt");
        var response = await who.PostAsync("/api/documents", form, Ct);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("document").GetProperty("id").GetGuid();
    }

    [Fact]
    public async Task The_owner_sees_an_upload_and_a_release_change_status_live_from_the_worker_and_another_member_sees_neither()
    {
        var (ownerApi, ownerKey, _, _) = await Accounts.PersonAsync(web, Roles.Member);
        var (otherApi, otherKey, _, _) = await Accounts.PersonAsync(web, Roles.Member);
        await using var owner = await ListenAsync(ownerKey);
        await using var other = await ListenAsync(otherKey);

        var document = await UploadAsync(ownerApi, $"{StarterModels.Clean}\n\n{StarterModels.Threat}\n\nthe garden looks lovely this week");
        await Eventually.TrueAsync(() => Task.FromResult(owner.Got(document, "partially-held")), "the owner is told the upload is partially held");
        Assert.False(string.IsNullOrEmpty(owner.Changes.First().GetProperty("language").GetString()));   // the library shows it too

        var held = (await ownerApi.GetFromJsonAsync<JsonElement>($"/api/documents/{document}", Ct)).GetProperty("chunks").EnumerateArray()
            .Single(c => c.GetProperty("status").GetString() == "held").GetProperty("id").GetGuid();
        var (reviewer, _) = await Accounts.CreateAsync(web, Roles.Annotator);
        await DocumentsTests.PublishDecisionAsync(worker, Guid.NewGuid(), held, ContentDecided.Release, reviewer);
        await Eventually.TrueAsync(() => Task.FromResult(owner.Got(document, "approved")), "the owner is told the release approved it");

        // The other member's connection works (their own upload reaches them) and carried none of the owner's changes.
        var theirs = await UploadAsync(otherApi, StarterModels.Clean);
        await Eventually.TrueAsync(() => Task.FromResult(other.Got(theirs, "approved")), "the other member is told of their own upload");
        Assert.All(other.Changes, c => Assert.Equal(theirs, c.GetProperty("documentId").GetGuid()));
        Assert.All(owner.Changes, c => Assert.Equal(document, c.GetProperty("documentId").GetGuid()));
        Assert.Equal(2, owner.Changes.Count);   // one change each: processed, released

        // Catching up after connecting: the caller's own documents only.
        var mine = await owner.Connection.InvokeAsync<List<JsonElement>>("Statuses", new[] { document, theirs }, Ct);
        Assert.Equal([(document, "approved")], mine.Select(c => (c.GetProperty("documentId").GetGuid(), c.GetProperty("status").GetString())));
        Assert.Empty(await other.Connection.InvokeAsync<List<JsonElement>>("Statuses", new[] { document }, Ct));
    }

    [Fact]
    public async Task A_disabled_users_call_on_an_open_connection_is_refused()
    {
        var (_, key, id, _) = await Accounts.PersonAsync(web, Roles.Member);
        await using var live = await ListenAsync(key);
        Assert.Empty(await live.Connection.InvokeAsync<List<JsonElement>>("Statuses", new[] { Guid.NewGuid() }, Ct));

        // Disabled behind Identity's back (no user-changed broadcast closes the connection): the per-call check alone refuses.
        await using (var connection = await web.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync(Ct))
            await connection.ExecuteAsync("update identity.users set disabled_at = now() where id = @id", new { id });

        var refused = await Assert.ThrowsAsync<HubException>(() => live.Connection.InvokeAsync<List<JsonElement>>("Statuses", new[] { Guid.NewGuid() }, Ct));
        Assert.Contains("session has ended", refused.Message);
    }
}
