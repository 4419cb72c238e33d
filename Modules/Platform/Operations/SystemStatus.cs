using System.Reflection;
using System.Text.Json;
using BirbalAI.Platform.Messaging;
using Dapper;
using Hangfire;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using RabbitMQ.Client.Exceptions;
using StackExchange.Redis;

namespace BirbalAI.Platform.Operations;

public sealed record QueueDepth(string Queue, long Messages, long Consumers);

public sealed record HangfireCounts(long Enqueued, long Scheduled, long Processing, long Failed, long Succeeded, long Servers, long Recurring);

/// <summary>One instance as it last reported itself: its role, version and facts (the model it serves).</summary>
public sealed record InstanceReport(string Instance, string Role, string Version, DateTimeOffset StartedAt, DateTimeOffset SeenAt,
    IReadOnlyDictionary<string, string> Facts);

/// <summary>
/// What one sample saw of the deployment. A part that could not be read is null (or its queue missing) and says why
/// in <see cref="Problems"/>; the rest is still shown.
/// </summary>
public sealed record SystemSnapshot(
    DateTimeOffset SampledAt, IReadOnlyList<QueueDepth> Queues, long? DeadLetters, double? OutboxLagSeconds, long? OutboxUnpublished,
    HangfireCounts? Hangfire, IReadOnlyList<string> Problems);

/// <summary>
/// A fact a module adds to its instance's report (Ml: the model version in production here). Called on every sample:
/// it must be cheap and never throw.
/// </summary>
public interface IInstanceFacts
{
    IEnumerable<KeyValuePair<string, string>> Facts();
}

/// <summary>
/// Samples the deployment for the System page and /metrics: the depth of every module queue, the dead-letter and
/// unrouted queues, the outbox lag (age of the oldest unpublished row), Hangfire's job counts; and reports this
/// instance (role, version, facts) to the others through a Redis hash, so each one sees every instance.
/// </summary>
public sealed class SystemStatus(
    NpgsqlDataSource db, RabbitConnection rabbit, IConnectionMultiplexer redis, IServiceProvider services,
    IEnumerable<EventSubscription> subscriptions, IEnumerable<IInstanceFacts> facts, HostRole role,
    IOptions<RedisOptions> redisOptions, IOptions<OperationsOptions> options, TimeProvider clock)
{
    readonly DateTimeOffset startedAt = clock.GetUtcNow();

    /// <summary>This process in the instance list: its host name, process id and role.</summary>
    public string Instance { get; } = $"{Environment.MachineName}-{Environment.ProcessId}-{role.Name}";

    /// <summary>The informational version of the running app ("1.0.0+commit").</summary>
    public static string Version { get; } =
        (Assembly.GetEntryAssembly() ?? typeof(SystemStatus).Assembly).GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    /// <summary>The latest sample, or null before the first one.</summary>
    public SystemSnapshot? Current { get; private set; }

    RedisKey InstancesKey => redisOptions.Value.KeyPrefix + "instances";

    /// <summary>Every queue this deployment declares that holds messages for someone: each module's, dead letters, unrouted.</summary>
    public IReadOnlyList<string> Queues =>
    [
        .. subscriptions.Select(s => s.Module).Distinct().Order(StringComparer.Ordinal).Select(rabbit.Options.ModuleQueue),
        rabbit.Options.DeadLetterQueue, rabbit.Options.UnroutedQueue,
    ];

    public async Task<SystemSnapshot> SampleAsync(CancellationToken ct)
    {
        var problems = new List<string>();
        var queues = await QueueDepthsAsync(problems, ct);
        double? lag = null;
        long? unpublished = null;
        try
        {
            await using var connection = await db.OpenConnectionAsync(ct);
            var outbox = await connection.QuerySingleAsync<(long Unpublished, double Lag)>(new CommandDefinition(OutboxSql, cancellationToken: ct));
            (unpublished, lag) = (outbox.Unpublished, outbox.Lag);
        }
        catch (Exception e) when (e is NpgsqlException or PostgresException)
        {
            problems.Add($"outbox: {e.Message}");
        }
        HangfireCounts? hangfire = null;
        try
        {
            if (services.GetService<JobStorage>() is { } storage)
            {
                var s = await Task.Run(() => storage.GetMonitoringApi().GetStatistics(), ct);
                hangfire = new HangfireCounts(s.Enqueued, s.Scheduled, s.Processing, s.Failed, s.Succeeded, s.Servers, s.Recurring);
            }
        }
        catch (Exception e) when (e is NpgsqlException or PostgresException or InvalidOperationException)
        {
            problems.Add($"hangfire: {e.Message}");
        }
        var deadLetters = queues.FirstOrDefault(q => q.Queue == rabbit.Options.DeadLetterQueue)?.Messages;
        var snapshot = new SystemSnapshot(clock.GetUtcNow(), queues, deadLetters, lag, unpublished, hangfire, problems);
        Current = snapshot;
        return snapshot;
    }

    async Task<List<QueueDepth>> QueueDepthsAsync(List<string> problems, CancellationToken ct)
    {
        var depths = new List<QueueDepth>();
        try
        {
            var connection = await rabbit.GetAsync(ct);
            RabbitMQ.Client.IChannel? channel = null;
            try
            {
                foreach (var queue in Queues)
                {
                    channel ??= await connection.CreateChannelAsync(cancellationToken: ct);
                    try
                    {
                        var ok = await channel.QueueDeclarePassiveAsync(queue, ct);
                        depths.Add(new QueueDepth(queue, ok.MessageCount, ok.ConsumerCount));
                    }
                    catch (OperationInterruptedException)
                    {
                        // A passive declare of a missing queue closes the channel: the next queue gets a new one.
                        problems.Add($"queue {queue} does not exist");
                        await channel.DisposeAsync();
                        channel = null;
                    }
                }
            }
            finally
            {
                if (channel is not null) await channel.DisposeAsync();
            }
        }
        catch (Exception e) when (e is BrokerUnreachableException or IOException or AlreadyClosedException)
        {
            problems.Add($"rabbitmq: {e.Message}");
        }
        return depths;
    }

    /// <summary>Writes this instance's report where every instance reads it, and drops reports long gone.</summary>
    public async Task ReportInstanceAsync()
    {
        var now = clock.GetUtcNow();
        var report = new InstanceReport(Instance, role.Name, Version, startedAt, now,
            facts.SelectMany(f => f.Facts()).ToDictionary(f => f.Key, f => f.Value));
        var database = redis.GetDatabase();
        await database.HashSetAsync(InstancesKey, Instance, JsonSerializer.Serialize(report));
        // Each instance tidies up: reports unheard-of for a hundred intervals are from processes long stopped.
        foreach (var stale in (await InstancesAsync()).Where(i => now - i.SeenAt > Interval * 100))
            await database.HashDeleteAsync(InstancesKey, stale.Instance);
    }

    /// <summary>Every instance that has reported, newest first; one is gone when unheard-of for three intervals (<see cref="IsGone"/>).</summary>
    public async Task<IReadOnlyList<InstanceReport>> InstancesAsync()
    {
        var entries = await redis.GetDatabase().HashGetAllAsync(InstancesKey);
        var reports = new List<InstanceReport>();
        foreach (var entry in entries)
        {
            try
            {
                if (JsonSerializer.Deserialize<InstanceReport>(entry.Value.ToString()) is { } report) reports.Add(report);
            }
            catch (JsonException)
            {
                await redis.GetDatabase().HashDeleteAsync(InstancesKey, entry.Name);
            }
        }
        return [.. reports.OrderByDescending(r => r.StartedAt)];
    }

    public bool IsGone(InstanceReport report) => clock.GetUtcNow() - report.SeenAt > Interval * 3;

    TimeSpan Interval => TimeSpan.FromMilliseconds(options.Value.SampleIntervalMs);

    const string OutboxSql = """
        select count(*) as unpublished, coalesce(extract(epoch from now() - min(created_at))::float8, 0) as lag
        from platform.outbox where published_at is null
        """;
}

/// <summary>Samples every <see cref="OperationsOptions.SampleIntervalMs"/> on every role, so /metrics of any instance has the figures.</summary>
sealed class SystemSampler(SystemStatus status, IOptions<OperationsOptions> options, ILogger<SystemSampler> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        OperationsMetrics.Follow(status);
        try
        {
            await SampleUntilStoppedAsync(stoppingToken);
        }
        finally
        {
            OperationsMetrics.Forget(status);
        }
    }

    async Task SampleUntilStoppedAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(options.Value.SampleIntervalMs));
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var snapshot = await status.SampleAsync(stoppingToken);
                await status.ReportInstanceAsync();
                foreach (var problem in snapshot.Problems) logger.LogWarning("System sample: {Problem}", problem);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                logger.LogWarning(e, "Sampling the system failed; trying again at the next interval");
            }
            try
            {
                await timer.WaitForNextTickAsync(stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }
}
