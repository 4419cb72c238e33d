using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using BirbalAI.Contracts.Identity;
using BirbalAI.Ml.Grpc;
using BirbalAI.Testing;
using Grpc.Core;
using Grpc.Net.Client;

namespace BirbalAI.IntegrationTests.Abuse;

/// <summary>
/// The standing abuse suite, Unicode part: adversarial text through every text input (the moderation API, /v1,
/// gRPC, chat messages and room names). Every answer is a clear one — a verdict, or a refusal that names the
/// limit — and never a server error. Modules that add a text input add it here.
/// </summary>
public sealed class UnicodeAbuseTests(UnicodeAbuseTests.Fixture fixture) : IClassFixture<UnicodeAbuseTests.Fixture>, IAsyncLifetime
{
    /// <summary>One app for the class: each test calls with a key of its own.</summary>
    public sealed class Fixture : IAsyncLifetime
    {
        public App App { get; } = new();

        public async ValueTask InitializeAsync()
        {
            await App.InitializeAsync();
            App.WithStarterModel().With("Chat:SendLimit", "1000").With("Identity:ApiPerClientLimit", "10000");
        }

        public ValueTask DisposeAsync() => App.DisposeAsync();
    }

    readonly App app = fixture.App;
    HttpClient api = null!;
    string key = null!;

    public async ValueTask InitializeAsync() => (api, key, _) = await Accounts.WithApiKeyAsync(app, Roles.Member);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Texts within MaxInputChars that stay within the normalised bounds: each gets a verdict.</summary>
    static readonly (string Kind, string Text)[] Adversarial =
    [
        ("combining marks", "a" + new string('\u0301', 3_000) + " kill"),
        ("bidi overrides", "\u202Eyou are trash\u202C \u2066isolate\u2069 \u200Fmark"),
        ("zero-width inside words", string.Join('\u200B', "idiot loser trash".ToCharArray())),
        ("one huge token", new string('x', 20_000)),
        ("emoji and ZWJ sequences", string.Concat(Enumerable.Repeat("👩‍👩‍👧‍👦🏳️‍🌈", 150))),
        ("spaced letters", string.Join(' ', new string('k', 1_900).ToCharArray())),
        ("some expansion", new string('\uFDFA', 1_000) + " hello"),
    ];

    public static TheoryData<string, string> Scored => new(Adversarial.Select(a => (a.Kind, a.Text)));

    /// <summary>The review's adversarial request: one 20,000 × U+FDFA text (18 characters each once normalised) and 15 short ones.</summary>
    static string[] ExpandingRequest => [new string('\uFDFA', 20_000), .. Enumerable.Range(0, 15).Select(i => $"short text {i}")];

    [Theory]
    [MemberData(nameof(Scored))]
    public async Task Adversarial_text_gets_a_verdict_on_every_moderation_path(string kind, string text)
    {
        var check = await api.PostAsJsonAsync("/api/moderation/check", new { text }, Ct);
        var openAi = await api.PostAsJsonAsync("/v1/moderations", new { input = text }, Ct);
        var grpc = await GrpcClient().CheckAsync(new CheckRequest { Texts = { text } }, Auth(), cancellationToken: Ct);

        Assert.True(check.StatusCode == HttpStatusCode.OK, $"{kind}: /api/moderation/check answered {check.StatusCode}: {await check.Content.ReadAsStringAsync(Ct)}");
        Assert.True(openAi.StatusCode == HttpStatusCode.OK, $"{kind}: /v1/moderations answered {openAi.StatusCode}: {await openAi.Content.ReadAsStringAsync(Ct)}");
        Assert.Single(grpc.Results);
    }

    [Fact]
    public async Task Text_that_expands_past_the_normalised_limit_is_refused_with_the_setting_named()
    {
        var check = await api.PostAsJsonAsync("/api/moderation/check", new { texts = ExpandingRequest }, Ct);
        var openAi = await api.PostAsJsonAsync("/v1/moderations", new { input = ExpandingRequest }, Ct);
        var grpc = await Assert.ThrowsAsync<RpcException>(() => GrpcClient().CheckAsync(new CheckRequest { Texts = { ExpandingRequest } }, Auth(), cancellationToken: Ct).ResponseAsync);

        Assert.Equal(HttpStatusCode.BadRequest, check.StatusCode);
        Assert.Contains("Ml:Limits:MaxNormalizedChars", (await check.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("detail").GetString());
        Assert.Equal(HttpStatusCode.BadRequest, openAi.StatusCode);
        Assert.Contains("Ml:Limits:MaxNormalizedChars", (await openAi.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("error").GetProperty("message").GetString());
        Assert.Equal(StatusCode.InvalidArgument, grpc.StatusCode);
        Assert.Contains("Ml:Limits:MaxNormalizedChars", grpc.Status.Detail);
    }

    [Fact]
    public async Task Too_many_features_after_normalisation_is_refused_with_the_setting_named()
    {
        await using var strict = App.ReplicaOf(app);
        strict.With("Ml:Limits:MaxFeaturesPerText", "1000");
        var (client, _, _) = await Accounts.WithApiKeyAsync(strict, Roles.Member);

        var ok = await client.PostAsJsonAsync("/api/moderation/check", new { text = "a short friendly line" }, Ct);
        var refused = await client.PostAsJsonAsync("/api/moderation/check", new { text = string.Join(' ', Enumerable.Range(0, 400).Select(i => $"word{i}")) }, Ct);

        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("Ml:Limits:MaxFeaturesPerText", await refused.Content.ReadAsStringAsync(Ct));
    }

    [Fact]
    public async Task A_lone_surrogate_is_never_a_server_error_and_broken_utf8_is_a_client_error()
    {
        var surrogate = new StringContent("{\"text\":\"\\ud800 hello\"}", Encoding.UTF8, "application/json");
        var brokenUtf8 = new ByteArrayContent([.. "{\"text\":\""u8.ToArray(), 0xC3, 0x28, .. "\"}"u8.ToArray()]);
        brokenUtf8.Headers.ContentType = new("application/json");

        var first = await api.PostAsync("/api/moderation/check", surrogate, Ct);
        var second = await api.PostAsync("/api/moderation/check", brokenUtf8, Ct);

        Assert.True((int)first.StatusCode is 200 or 400, $"lone surrogate: {first.StatusCode}");
        Assert.Equal(HttpStatusCode.BadRequest, second.StatusCode);
    }

    [Fact]
    public async Task Chat_messages_and_room_names_take_adversarial_text_with_a_clear_answer()
    {
        var (member, _, _, _) = await Accounts.PersonAsync(app, Roles.Member);
        var created = await member.PostAsJsonAsync("/api/chat/rooms", new { name = "\u202Egarden\u202C \u200B club 👩‍👩‍👧‍👦" }, Ct);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var room = (await created.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetGuid();

        foreach (var (kind, text) in Adversarial.Where(a => a.Text.Length <= 4_000))
        {
            var posted = await member.PostAsJsonAsync($"/api/chat/rooms/{room}/messages", new { text }, Ct);
            Assert.True(posted.StatusCode == HttpStatusCode.Created, $"{kind}: {posted.StatusCode} {await posted.Content.ReadAsStringAsync(Ct)}");
        }
        // 4,000 characters (the chat limit) that normalise to 72,000: refused, and the answer says why.
        var expanding = await member.PostAsJsonAsync($"/api/chat/rooms/{room}/messages", new { text = new string('\uFDFA', 4_000) }, Ct);
        Assert.Equal(HttpStatusCode.BadRequest, expanding.StatusCode);
        Assert.Contains("Ml:Limits:MaxNormalizedChars", await expanding.Content.ReadAsStringAsync(Ct));
    }

    [Fact]
    public async Task Deeply_nested_and_oversized_json_is_refused_on_every_json_endpoint()
    {
        var nested = new string('[', 5_000) + new string(']', 5_000);
        foreach (var path in new[] { "/api/moderation/check", "/v1/moderations", "/api/chat/rooms", "/api/auth/token" })
        {
            var response = await api.PostAsync(path, new StringContent($"{{\"text\":{nested},\"input\":{nested},\"name\":{nested}}}", Encoding.UTF8, "application/json"), Ct);
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{path}: nested JSON answered {response.StatusCode}");
        }
        var huge = new StringContent($"{{\"text\":\"{new string('a', 2 * 1024 * 1024)}\"}}", Encoding.UTF8, "application/json");
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await api.PostAsync("/api/chat/rooms", huge, Ct)).StatusCode);
    }

    BirbalAI.Ml.Grpc.Moderation.ModerationClient GrpcClient() => new(GrpcChannel.ForAddress(app.Server.BaseAddress,
        new GrpcChannelOptions { HttpHandler = app.Server.CreateHandler(), MaxReceiveMessageSize = null }));

    Metadata Auth() => new() { { "authorization", $"Bearer {key}" } };
}
