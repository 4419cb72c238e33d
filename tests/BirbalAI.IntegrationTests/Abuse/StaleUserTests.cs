using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using BirbalAI.Contracts.Identity;
using BirbalAI.Identity.Users;
using BirbalAI.IntegrationTests.Chat;
using BirbalAI.Ml.Grpc;
using BirbalAI.Testing;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace BirbalAI.IntegrationTests.Abuse;

/// <summary>
/// The standing abuse suite, stale credentials: a disabled, a downgraded and a revoked user on every surface —
/// pages (cookie), REST (JWT and key), the hub (open connections are closed on every replica) and gRPC. Modules
/// that add a surface add it here.
/// </summary>
public sealed class StaleUserTests(StaleUserTests.Deployment deployment) : IClassFixture<StaleUserTests.Deployment>
{
    /// <summary>Two replicas of one deployment for the class: each test disables, downgrades or revokes only its own people and keys.</summary>
    public sealed class Deployment : TwoReplicas
    {
        public override async ValueTask InitializeAsync()
        {
            await base.InitializeAsync();
            First.WithStarterModel();
            Second.WithStarterModel();
        }
    }

    App First => deployment.First;
    App Second => deployment.Second;

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    sealed record Person(Guid Id, string Email, string Key, string Jwt, HttpClient Browser);

    async Task<Person> PersonAsync(string role)
    {
        var (_, key, id, email) = await Accounts.PersonAsync(First, role);
        var token = (await (await First.CreateClient().PostAsJsonAsync("/api/auth/token", new { email, password = Accounts.Password }, Ct))
            .Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("access_token").GetString()!;
        return new Person(id, email, key, token, await Accounts.SignInAsync(Second, email));
    }

    static async Task<HubConnection> ConnectAsync(App app, string bearer, string hub = "/hubs/chat")
    {
        var connection = ChatHubs.Connect(app, bearer, path: hub);
        await connection.StartAsync(Ct);
        return connection;
    }

    static HttpClient Bearer(App app, string bearer)
    {
        var client = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        client.DefaultRequestHeaders.Authorization = new("Bearer", bearer);
        return client;
    }

    static async Task<StatusCode> GrpcAsync(App app, string bearer)
    {
        var client = new BirbalAI.Ml.Grpc.Moderation.ModerationClient(GrpcChannel.ForAddress(app.Server.BaseAddress,
            new GrpcChannelOptions { HttpHandler = app.Server.CreateHandler() }));
        try
        {
            await client.CheckAsync(new CheckRequest { Texts = { "hello" } }, new Metadata { { "authorization", $"Bearer {bearer}" } }, cancellationToken: Ct);
            return StatusCode.OK;
        }
        catch (RpcException e) { return e.StatusCode; }
    }

    static Task ClosedAsync(HubConnection connection, string what) =>
        Eventually.TrueAsync(() => Task.FromResult(connection.State == HubConnectionState.Disconnected), what);

    [Fact]
    public async Task A_disabled_user_is_refused_everywhere_and_their_open_connections_close_on_every_replica()
    {
        var eve = await PersonAsync(Roles.Member);
        await using var byKey = await ConnectAsync(Second, eve.Key);
        await using var byJwt = await ConnectAsync(First, eve.Jwt);
        await using var documents = await ConnectAsync(Second, eve.Key, "/hubs/documents");
        Assert.Equal(HttpStatusCode.OK, (await Bearer(Second, eve.Key).GetAsync("/api/identity/me", Ct)).StatusCode);
        var admin = await Accounts.CreateAsync(First, Roles.Admin);

        await First.Services.GetRequiredService<UserAdministration>().SetDisabledAsync(admin.Id, eve.Id, true, Ct);

        await ClosedAsync(byKey, "the key's connection on the other replica closes");
        await ClosedAsync(byJwt, "the JWT's connection closes");
        await ClosedAsync(documents, "the connection to the documents hub closes");
        Assert.Equal(HttpStatusCode.Unauthorized, (await Bearer(Second, eve.Key).GetAsync("/api/identity/me", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Bearer(Second, eve.Jwt).GetAsync("/api/identity/me", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await eve.Browser.GetAsync("/chat", Ct)).StatusCode);
        Assert.Equal(StatusCode.Unauthenticated, await GrpcAsync(Second, eve.Key));
        await Assert.ThrowsAnyAsync<Exception>(() => ConnectAsync(Second, eve.Key));
        await Assert.ThrowsAnyAsync<Exception>(() => ConnectAsync(Second, eve.Key, "/hubs/documents"));
    }

    [Fact]
    public async Task A_downgraded_admin_loses_admin_rights_at_once_and_their_connection_closes()
    {
        var ann = await PersonAsync(Roles.Admin);
        await using var live = await ConnectAsync(Second, ann.Key);
        Assert.Equal(HttpStatusCode.OK, (await Bearer(Second, ann.Key).GetAsync("/api/identity/users", Ct)).StatusCode);
        var admin = await Accounts.CreateAsync(First, Roles.Admin);

        await First.Services.GetRequiredService<UserAdministration>().ChangeRoleAsync(admin.Id, ann.Id, Roles.Member, Ct);

        await ClosedAsync(live, "the downgraded user's connection closes");
        Assert.Equal(HttpStatusCode.Forbidden, (await Bearer(Second, ann.Key).GetAsync("/api/identity/users", Ct)).StatusCode);   // the key now acts as a Member
        Assert.Equal(HttpStatusCode.Unauthorized, (await Bearer(Second, ann.Jwt).GetAsync("/api/identity/users", Ct)).StatusCode);   // the token ended
        Assert.NotEqual(HttpStatusCode.OK, (await ann.Browser.GetAsync("/admin/identity/users", Ct)).StatusCode);   // the session ended
        await using var again = await ConnectAsync(Second, ann.Key);   // a Member may still chat, with the key capped to Member
        Assert.Equal(HubConnectionState.Connected, again.State);
    }

    [Fact]
    public async Task A_revoked_key_stops_at_once_on_rest_grpc_and_its_open_hub_connection()
    {
        var bob = await PersonAsync(Roles.Member);
        await using var live = await ConnectAsync(Second, bob.Key);
        var keyId = (await First.Services.GetRequiredService<Npgsql.NpgsqlDataSource>().OpenConnectionAsync(Ct) is var connection
            ? await Dapper.SqlMapper.ExecuteScalarAsync<Guid>(connection, "select id from identity.api_keys where user_id = @Id", new { bob.Id })
            : Guid.Empty);
        await connection.DisposeAsync();
        var admin = await Accounts.CreateAsync(First, Roles.Admin);

        await First.Services.GetRequiredService<UserAdministration>().RevokeKeyAsync(admin.Id, keyId, Ct);

        await ClosedAsync(live, "the revoked key's connection closes");
        Assert.Equal(HttpStatusCode.Unauthorized, (await Bearer(Second, bob.Key).GetAsync("/api/identity/me", Ct)).StatusCode);
        Assert.Equal(StatusCode.Unauthenticated, await GrpcAsync(Second, bob.Key));
        Assert.Equal(HttpStatusCode.OK, (await Bearer(Second, bob.Jwt).GetAsync("/api/identity/me", Ct)).StatusCode);   // the person's other credentials are theirs
    }

    [Fact]
    public async Task A_hub_call_after_the_token_expired_is_refused()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = new App();
        await app.InitializeAsync();
        app.With("Identity:TokenMinutes", "5").WithServices(s => s.AddSingleton<TimeProvider>(clock));
        var (_, email) = await Accounts.CreateAsync(app, Roles.Member);
        var token = (await (await app.CreateClient().PostAsJsonAsync("/api/auth/token", new { email, password = Accounts.Password }, Ct))
            .Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("access_token").GetString()!;
        var room = (await (await Bearer(app, token).PostAsJsonAsync("/api/chat/rooms", new { name = "soon over" }, Ct)).Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetGuid();
        await using var live = await ConnectAsync(app, token);
        await live.InvokeAsync<List<Guid>>("Online", room, Ct);

        clock.Advance(TimeSpan.FromMinutes(6));

        var refused = await Assert.ThrowsAsync<HubException>(() => live.InvokeAsync<List<Guid>>("Online", room, Ct));
        Assert.Contains("session has ended", refused.Message);
    }
}
