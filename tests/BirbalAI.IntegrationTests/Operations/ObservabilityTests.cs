using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using BirbalAI.Contracts.Identity;
using BirbalAI.Platform.Operations;
using BirbalAI.Testing;
using Hangfire;
using Microsoft.Extensions.DependencyInjection;
using RabbitMQ.Client;

namespace BirbalAI.IntegrationTests.Operations;

/// <summary>
/// Alone, after the parallel tests: OpenTelemetry listens to meters by name, so with other apps alive in this process
/// their ASP.NET Core meters (same name) may take the place of this app's, and its request series never shows.
/// </summary>
[CollectionDefinition(DisableParallelization = true)]
public sealed class OneAppInProcess;

/// <summary>/metrics after real traffic, and one trace from an HTTP request through the outbox and RabbitMQ to a consumer.</summary>
[Collection(typeof(OneAppInProcess))]
public sealed class ObservabilityTests : IAsyncLifetime
{
    readonly App app = new();
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        await app.InitializeAsync();
        app.WithStarterModel().With("Operations:SampleIntervalMs", "100");
        await StarterModels.HoldNeverRejectAsync(app);
    }

    public ValueTask DisposeAsync() => app.DisposeAsync();

    async Task<IReadOnlyList<PrometheusSample>> ScrapeAsync() =>
        PrometheusSample.Parse(await app.CreateClient().GetStringAsync("/metrics", Ct));

    /// <summary>A held chat message: moderation, an outbox row, a publish and the annotation module's consumer.</summary>
    async Task<Guid> PostHeldMessageAsync(HttpClient client, string? traceparent = null)
    {
        var room = await client.PostAsJsonAsync("/api/chat/rooms", new { name = "observed", isPrivate = true }, Ct);
        var roomId = (await room.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetGuid();
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/chat/rooms/{roomId}/messages")
        {
            Content = JsonContent.Create(new { text = StarterModels.Threat }),
        };
        if (traceparent is not null) request.Headers.Add("traceparent", traceparent);
        var posted = await client.SendAsync(request, Ct);
        Assert.Equal(HttpStatusCode.Created, posted.StatusCode);
        var message = await posted.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal("held", message.GetProperty("status").GetString());
        return message.GetProperty("id").GetGuid();
    }

    [Fact]
    public async Task After_real_traffic_metrics_has_every_series_with_sensible_values()
    {
        var (member, _, _) = await Accounts.WithApiKeyAsync(app, Roles.Member);
        var checkedTexts = await member.PostAsJsonAsync("/api/moderation/check", new { texts = new[] { StarterModels.Clean, StarterModels.Threat } }, Ct);
        Assert.Equal(HttpStatusCode.OK, checkedTexts.StatusCode);
        await PostHeldMessageAsync(member);
        app.Services.GetRequiredService<IBackgroundJobClient>().Enqueue(() => SampleJob.Run());
        // One message parked and one event nobody consumes: the dead-letter and unrouted queues hold one each.
        await using (var rabbit = await new ConnectionFactory { Uri = new Uri(TestServers.RabbitMq) }.CreateConnectionAsync(Ct))
        await using (var channel = await rabbit.CreateChannelAsync(cancellationToken: Ct))
        {
            await channel.BasicPublishAsync("", $"{app.Prefix}.dead-letters", Encoding.UTF8.GetBytes("{}"), Ct);
            await channel.BasicPublishAsync($"{app.Prefix}.events", "nobody.listens-here.v1", Encoding.UTF8.GetBytes("{}"), Ct);
        }

        IReadOnlyList<PrometheusSample> samples = [];
        var status = app.Services.GetRequiredService<SystemStatus>();
        // The deployment-wide gauges (Hangfire's counts, the dead letters) carry no label of their own: with several test
        // apps in this process a scrape may show another app's value for them, so this app's sample is read for those.
        bool SamplerSawJobDone() => status.Current?.Hangfire?.Succeeded >= 1;
        bool Queued(string queue) => samples.Named("birbal_messaging_queue_messages", ("queue", $"{app.Prefix}.{queue}")).Any(s => s.Value == 1);
        bool Timed() => samples.Named("http_server_request_duration_seconds_count", ("http_route", "/api/moderation/check"), ("http_response_status_code", "200")).Any();
        await Eventually.TrueAsync(async () =>
        {
            samples = await ScrapeAsync();
            // A request's duration is recorded once its response has gone, and the exporter caches a scrape briefly.
            return Timed() && SamplerSawJobDone() && Queued("unrouted") && Queued("dead-letters");
        }, "the sampler saw the job done and the queues filled", TimeSpan.FromSeconds(60), async () =>
            $"request timed: {Timed()}, sampler saw the job done: {SamplerSawJobDone()} ({status.Current?.Hangfire}), "
            + $"unrouted: {Queued("unrouted")}, dead letters: {Queued("dead-letters")}; {await app.Database.DescribeHangfireAsync()}");
        Assert.NotEmpty(samples.Named("birbal_hangfire_jobs", ("state", "succeeded")));

        var checks = samples.Named("http_server_request_duration_seconds_count", ("http_route", "/api/moderation/check"), ("http_response_status_code", "200"));
        Assert.True(checks.Sum(s => s.Value) >= 1, "HTTP requests by route and status: " + string.Join("; ",
            samples.Where(s => s.Name == "http_server_request_duration_seconds_count").Select(s => string.Join(",", s.Labels.Select(l => $"{l.Key}={l.Value}")))));
        var held = samples.Named("birbal_moderation_duration_milliseconds_count", ("model_version", "1"), ("action", "review")).Sum(s => s.Value);
        Assert.True(held >= 1, "the check's duration is recorded with its model version and most severe action");
        Assert.True(samples.Named("birbal_moderation_duration_milliseconds_sum", ("model_version", "1"), ("action", "review")).Single().Value > 0);
        Assert.True(samples.Named("birbal_moderation_texts_total", ("model_version", "1"), ("action", "approve")).Single().Value >= 1);
        var batches = samples.Named("birbal_moderation_batch_size_count").Sum(s => s.Value);
        var texts = samples.Named("birbal_moderation_batch_size_sum").Sum(s => s.Value);
        Assert.True(batches >= 1 && texts >= 3 && texts >= batches, $"micro-batches: {batches} holding {texts} texts");
        Assert.True(samples.Named("birbal_ml_model_swaps_total", ("model_version", "1")).Single().Value >= 1);
        Assert.True(samples.Named("birbal_ml_model_loads_total", ("model_version", "1")).Single().Value >= 1);
        var annotationQueue = samples.Named("birbal_messaging_queue_messages", ("queue", $"{app.Prefix}.annotation")).Single();
        Assert.InRange(annotationQueue.Value, 0, 1);
        Assert.True(samples.Named("birbal_messaging_queue_consumers", ("queue", $"{app.Prefix}.annotation")).Single().Value >= 1,
            "the annotation module consumes its queue");
        Assert.NotEmpty(samples.Named("birbal_messaging_dead_letters"));
        Assert.Equal(1, status.Current!.DeadLetters);
        var lag = samples.Named("birbal_outbox_lag_seconds").ToList();
        Assert.NotEmpty(lag);
        Assert.All(lag, s => Assert.InRange(s.Value, 0, 3600));
        Assert.NotEmpty(samples.Named("birbal_outbox_unpublished"));
        foreach (var state in new[] { "enqueued", "scheduled", "processing", "failed" })
            Assert.All(samples.Named("birbal_hangfire_jobs", ("state", state)), s => Assert.True(s.Value >= 0));
        Assert.Contains(samples.Named("birbal_hangfire_servers"), s => s.Value >= 1);   // this process runs a Hangfire server
    }

    [Fact]
    public async Task A_consumer_works_in_the_trace_of_the_request_that_raised_the_event()
    {
        var traceId = ActivityTraceId.CreateRandom();
        var caller = ActivitySpanId.CreateRandom();
        var seen = new ConcurrentBag<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name.StartsWith("BirbalAI.", StringComparison.Ordinal) || source.Name == "Microsoft.AspNetCore",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity => { if (activity.TraceId == traceId) seen.Add(activity); },
        };
        ActivitySource.AddActivityListener(listener);
        var (member, _, _) = await Accounts.WithApiKeyAsync(app, Roles.Member);

        await PostHeldMessageAsync(member, $"00-{traceId}-{caller}-01");

        var consumed = await Eventually.ValueAsync(() => Task.FromResult(seen.FirstOrDefault(a => a.DisplayName == "chat.message-held.v1 process")),
            "the annotation module consumed the held message in the caller's trace");
        // The relay's publish span ends when the broker confirms, which can come after the consumer is done.
        await Eventually.TrueAsync(() => Task.FromResult(seen.Any(a => a.DisplayName == "chat.message-held.v1 publish")),
            "the relay's publish span ended in the caller's trace");
        var published = Assert.Single(seen, a => a.DisplayName == "chat.message-held.v1 publish");
        var request = Assert.Single(seen, a => a.Kind == ActivityKind.Server && a.ParentSpanId == caller);
        Assert.Equal(traceId, consumed.TraceId);
        Assert.Equal(published.SpanId, consumed.ParentSpanId);
        Assert.Equal(ActivityKind.Consumer, consumed.Kind);
        Assert.Equal(ActivityKind.Producer, published.Kind);
        Assert.Equal(request.TraceId, published.TraceId);
        Assert.Equal($"{app.Prefix}.annotation", consumed.GetTagItem("messaging.destination.name"));
    }
}

/// <summary>A job for Hangfire to run (it calls public methods only).</summary>
public static class SampleJob
{
    public static void Run() { }
}
