using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace BirbalAI.Platform.Operations;

/// <summary>
/// The deployment's figures as gauges on /metrics, read from each process's latest <see cref="SystemStatus"/> sample
/// (a scrape never waits on the broker or the database). The instruments are created once per process; each
/// running app adds its status (tests run several apps in one process).
/// </summary>
static class OperationsMetrics
{
    static readonly Meter Meter = new($"{PlatformModule.TelemetryName}.Platform");
    static readonly ConcurrentDictionary<SystemStatus, byte> Live = new();

    static OperationsMetrics()
    {
        Meter.CreateObservableGauge("birbal.messaging.queue.messages", () => Samples().SelectMany(s => s.Queues.Select(q =>
            new Measurement<long>(q.Messages, new KeyValuePair<string, object?>("queue", q.Queue)))), "{message}",
            "Messages ready in each queue (module queues, dead letters, unrouted)");
        Meter.CreateObservableGauge("birbal.messaging.queue.consumers", () => Samples().SelectMany(s => s.Queues.Select(q =>
            new Measurement<long>(q.Consumers, new KeyValuePair<string, object?>("queue", q.Queue)))), "{consumer}",
            "Consumers attached to each queue");
        Meter.CreateObservableGauge("birbal.messaging.dead_letters", () => Samples().Where(s => s.DeadLetters is not null)
            .Select(s => new Measurement<long>(s.DeadLetters!.Value)), "{message}", "Messages parked in the dead-letter queue");
        Meter.CreateObservableGauge("birbal.outbox.lag", () => Samples().Where(s => s.OutboxLagSeconds is not null)
            .Select(s => new Measurement<double>(s.OutboxLagSeconds!.Value)), "s", "Age of the oldest unpublished outbox row (0 when none)");
        Meter.CreateObservableGauge("birbal.outbox.unpublished", () => Samples().Where(s => s.OutboxUnpublished is not null)
            .Select(s => new Measurement<long>(s.OutboxUnpublished!.Value)), "{event}", "Outbox rows not yet published");
        Meter.CreateObservableGauge("birbal.hangfire.jobs", () => Samples().Where(s => s.Hangfire is not null).SelectMany(s => new[]
        {
            Job(s.Hangfire!.Enqueued, "enqueued"), Job(s.Hangfire.Scheduled, "scheduled"), Job(s.Hangfire.Processing, "processing"),
            Job(s.Hangfire.Failed, "failed"), Job(s.Hangfire.Succeeded, "succeeded"),
        }), "{job}", "Hangfire jobs by state");
        Meter.CreateObservableGauge("birbal.hangfire.servers", () => Samples().Where(s => s.Hangfire is not null)
            .Select(s => new Measurement<long>(s.Hangfire!.Servers)), "{server}", "Hangfire servers (worker processes) alive");
    }

    static Measurement<long> Job(long count, string state) => new(count, new KeyValuePair<string, object?>("state", state));

    static IEnumerable<SystemSnapshot> Samples() => Live.Keys.Select(s => s.Current).OfType<SystemSnapshot>();

    public static void Follow(SystemStatus status) => Live.TryAdd(status, 0);
    public static void Forget(SystemStatus status) => Live.TryRemove(status, out _);
}
