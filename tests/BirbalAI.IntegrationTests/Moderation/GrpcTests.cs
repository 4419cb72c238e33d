using System.Net;
using BirbalAI.Contracts.Identity;
using BirbalAI.IntegrationTests.Hosting;
using BirbalAI.Ml.Grpc;
using BirbalAI.Testing;
using Grpc.Core;
using Grpc.Net.Client;

namespace BirbalAI.IntegrationTests.Moderation;

/// <summary>gRPC birbal.moderation.v1.Moderation with Grpc.Net.Client: unary, bidirectional streaming, errors as status codes.</summary>
public sealed class GrpcTests(GrpcTests.Fixture fixture) : IClassFixture<GrpcTests.Fixture>
{
    /// <summary>
    /// One app for the class, and one member's key: no test changes the policy or the models, and the rate-limit tests
    /// count on replicas of their own with keys of their own.
    /// </summary>
    public sealed class Fixture : IAsyncLifetime
    {
        public App App { get; } = new();
        public string Key { get; private set; } = null!;

        public async ValueTask InitializeAsync()
        {
            await App.InitializeAsync();
            App.WithStarterModel();
            (_, Key, _) = await Accounts.WithApiKeyAsync(App, Roles.Member);
        }

        public ValueTask DisposeAsync() => App.DisposeAsync();
    }

    readonly App app = fixture.App;
    readonly string key = fixture.Key;

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    BirbalAI.Ml.Grpc.Moderation.ModerationClient Client() => ClientOf(app);

    static BirbalAI.Ml.Grpc.Moderation.ModerationClient ClientOf(App of) => new(GrpcChannel.ForAddress(of.Server.BaseAddress,
        new GrpcChannelOptions { HttpHandler = of.Server.CreateHandler() }));

    /// <summary>A replica of this app whose API rate limit allows <paramref name="permits"/> requests a minute per key.</summary>
    App LimitedReplica(int permits)
    {
        var limited = App.ReplicaOf(app);
        limited.With("Identity:ApiPerClientLimit", permits.ToString()).With("Identity:ApiWindowSeconds", "60");
        return limited;
    }

    Metadata Auth(string? bearer = null) => new() { { "authorization", $"Bearer {bearer ?? key}" } };

    [Fact]
    public async Task Unary_check_moderates_a_batch()
    {
        var request = new CheckRequest { Texts = { StarterModels.Clean, StarterModels.Threat }, RequestId = "r-1" };

        var response = await Client().CheckAsync(request, Auth(), cancellationToken: Ct);

        Assert.Equal("r-1", response.RequestId);
        Assert.Equal("birbal-v1", response.Model.Name);
        Assert.Equal(1, response.PolicyVersion);
        Assert.Equal(["approve", "reject"], response.Results.Select(r => r.Action));
        Assert.Equal("rejected", response.Results[1].Status);
        Assert.Equal(13, response.Results[1].Categories.Count);
        Assert.Contains(response.Results[1].Categories, c => c.Action == "reject" && c.Explanation.Count > 0);
    }

    [Fact]
    public async Task The_stream_answers_every_request_in_order_with_its_id()
    {
        using var call = Client().CheckStream(Auth(), cancellationToken: Ct);
        for (var i = 0; i < 5; i++)
            await call.RequestStream.WriteAsync(new CheckRequest { Texts = { i % 2 == 0 ? StarterModels.Clean : StarterModels.Threat }, RequestId = $"s-{i}" }, Ct);
        await call.RequestStream.CompleteAsync();

        var answers = new List<CheckResponse>();
        await foreach (var response in call.ResponseStream.ReadAllAsync(Ct)) answers.Add(response);

        Assert.Equal(["s-0", "s-1", "s-2", "s-3", "s-4"], answers.Select(a => a.RequestId));
        Assert.Equal(["approve", "reject", "approve", "reject", "approve"], answers.Select(a => a.Results[0].Action));
    }

    [Fact]
    public async Task Errors_are_status_codes_with_a_clear_detail()
    {
        var client = Client();

        var unauthenticated = await Assert.ThrowsAsync<RpcException>(() => client.CheckAsync(new CheckRequest { Texts = { "hi" } }, Auth("bk_wrong"), cancellationToken: Ct).ResponseAsync);
        var anonymous = await Assert.ThrowsAsync<RpcException>(() => client.CheckAsync(new CheckRequest { Texts = { "hi" } }, cancellationToken: Ct).ResponseAsync);
        var empty = await Assert.ThrowsAsync<RpcException>(() => client.CheckAsync(new CheckRequest(), Auth(), cancellationToken: Ct).ResponseAsync);
        var tooLong = await Assert.ThrowsAsync<RpcException>(() => client.CheckAsync(new CheckRequest { Texts = { new string('a', 20_001) } }, Auth(), cancellationToken: Ct).ResponseAsync);
        var unknown = await Assert.ThrowsAsync<RpcException>(() => client.CheckAsync(new CheckRequest { Texts = { "hi" }, Model = "v9" }, Auth(), cancellationToken: Ct).ResponseAsync);

        Assert.Equal(StatusCode.Unauthenticated, unauthenticated.StatusCode);
        Assert.Equal(StatusCode.Unauthenticated, anonymous.StatusCode);
        Assert.Equal(StatusCode.InvalidArgument, empty.StatusCode);
        Assert.Equal("Give at least one text.", empty.Status.Detail);
        Assert.Equal(StatusCode.InvalidArgument, tooLong.StatusCode);
        Assert.Contains("Ml:Limits:MaxInputChars", tooLong.Status.Detail);
        Assert.Equal(StatusCode.NotFound, unknown.StatusCode);
    }

    [Fact]
    public async Task Calls_count_against_the_api_rate_limit_and_are_refused_as_resource_exhausted()
    {
        await using var limited = LimitedReplica(2);
        var (_, limitedKey, _) = await Accounts.WithApiKeyAsync(limited, Roles.Member);
        var client = ClientOf(limited);
        var request = new CheckRequest { Texts = { "hello" } };

        await client.CheckAsync(request, Auth(limitedKey), cancellationToken: Ct);
        await client.CheckAsync(request, Auth(limitedKey), cancellationToken: Ct);
        var refused = await Assert.ThrowsAsync<RpcException>(() => client.CheckAsync(request, Auth(limitedKey), cancellationToken: Ct).ResponseAsync);

        Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
        Assert.StartsWith("Too many requests", refused.Status.Detail);
    }

    [Fact]
    public async Task A_content_type_in_other_letter_case_is_still_grpc_and_still_rate_limited()
    {
        await using var limited = LimitedReplica(2);
        var (_, limitedKey, _) = await Accounts.WithApiKeyAsync(limited, Roles.Member);
        var http = limited.Server.CreateClient();
        var frame = Frame(new CheckRequest { Texts = { "hello" } });

        var statuses = new List<string?>();
        for (var i = 0; i < 4; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/birbal.moderation.v1.Moderation/Check") { Version = HttpVersion.Version20 };
            request.Headers.TryAddWithoutValidation("authorization", $"Bearer {limitedKey}");
            request.Content = new ByteArrayContent(frame);
            request.Content.Headers.TryAddWithoutValidation("content-type", "Application/GRPC");
            using var response = await http.SendAsync(request, Ct);
            await response.Content.ReadAsByteArrayAsync(Ct);
            statuses.Add(response.Headers.TryGetValues("grpc-status", out var inHeaders) ? inHeaders.Single()
                : response.TrailingHeaders.TryGetValues("grpc-status", out var inTrailers) ? inTrailers.Single() : null);
        }

        Assert.Equal(["0", "0", "8", "8"], statuses);   // OK twice, then RESOURCE_EXHAUSTED
    }

    [Fact]
    public async Task Every_streamed_request_takes_a_permit_of_the_rate_limit()
    {
        await using var limited = LimitedReplica(3);
        var (_, limitedKey, _) = await Accounts.WithApiKeyAsync(limited, Roles.Member);
        var client = ClientOf(limited);

        using var call = client.CheckStream(Auth(limitedKey), cancellationToken: Ct);
        var answered = new List<string>();
        var refused = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            for (var i = 0; i < 10; i++)
            {
                await call.RequestStream.WriteAsync(new CheckRequest { Texts = { "hello" }, RequestId = $"s-{i}" }, Ct);
                if (!await call.ResponseStream.MoveNext(Ct)) break;
                answered.Add(call.ResponseStream.Current.RequestId);
            }
        });

        Assert.Equal(["s-0", "s-1", "s-2"], answered);
        Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
        Assert.StartsWith("Too many requests", refused.Status.Detail);
    }

    [Fact]
    public async Task A_message_larger_than_the_request_limit_is_refused_as_rest_refuses_the_body()
    {
        // 40 texts of 15,000 characters: each within MaxInputChars and MaxInputs, 600 KB in all, over the 512 KiB of MaxRequestBytes.
        var request = new CheckRequest();
        request.Texts.AddRange(Enumerable.Range(0, 40).Select(_ => new string('a', 15_000)));

        var refused = await Assert.ThrowsAsync<RpcException>(() => Client().CheckAsync(request, Auth(), cancellationToken: Ct).ResponseAsync);

        Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
    }

    /// <summary>One length-prefixed gRPC message, as on the wire.</summary>
    static byte[] Frame(Google.Protobuf.IMessage message)
    {
        var body = Google.Protobuf.MessageExtensions.ToByteArray(message);
        var frame = new byte[5 + body.Length];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(1), body.Length);
        body.CopyTo(frame, 5);
        return frame;
    }

    [Fact]
    public async Task The_real_app_serves_grpc_on_its_own_cleartext_http2_port()
    {
        int web = AppProcess.FreePort(), grpc = AppProcess.FreePort();
        var settings = AppProcess.Settings(app.Database, app.Prefix);
        settings["Listen__Web"] = $"http://127.0.0.1:{web}";
        settings["Listen__Grpc"] = $"http://127.0.0.1:{grpc}";
        await using var process = AppProcess.Start(settings);
        using var http = new HttpClient();
        await Eventually.TrueAsync(async () =>
        {
            try { return (await http.GetAsync($"http://127.0.0.1:{web}/readyz")).StatusCode == HttpStatusCode.OK; }
            catch (HttpRequestException) { return false; }
        }, $"the app is ready ({process.Errors})", TimeSpan.FromSeconds(120));

        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{grpc}");
        var response = await new BirbalAI.Ml.Grpc.Moderation.ModerationClient(channel).CheckAsync(new CheckRequest { Texts = { StarterModels.Threat } }, Auth(), cancellationToken: Ct);

        Assert.Equal("reject", response.Results[0].Action);
    }
}
