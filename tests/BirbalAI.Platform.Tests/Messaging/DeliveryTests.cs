using System.Diagnostics;
using System.Text;
using BirbalAI.Platform.Messaging;
using BirbalAI.Testing;
using BirbalAI.Workers;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using RabbitMQ.Client;

namespace BirbalAI.Platform.Tests.Messaging;

/// <summary>The outbox, relay, inbox, retries and dead letters keep their promises on real PostgreSQL and RabbitMQ.</summary>
public sealed class DeliveryTests : IAsyncLifetime
{
    readonly string prefix = TestServers.UniqueName();
    TestDatabase database = null!;
    IConnection rabbit = null!;

    public async ValueTask InitializeAsync()
    {
        database = await TestDatabase.CreateAsync();
        rabbit = await new ConnectionFactory { Uri = new Uri(TestServers.RabbitMq) }.CreateConnectionAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await rabbit.DisposeAsync();
        await database.DisposeAsync();
    }

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    async Task<Guid> CommitEventAsync(PlatformHost host, object evt, bool commit = true)
    {
        var db = host.Services.GetRequiredService<NpgsqlDataSource>();
        await using var connection = await db.OpenConnectionAsync(Ct);
        await using var tx = await connection.BeginTransactionAsync(Ct);
        var id = evt switch
        {
            ThingHappened thing => await Outbox.AddAsync(connection, tx, thing, Ct),
            NobodyListens nobody => await Outbox.AddAsync(connection, tx, nobody, Ct),
            _ => throw new ArgumentException("unknown event", nameof(evt)),
        };
        if (commit) await tx.CommitAsync(Ct);
        else await tx.RollbackAsync(Ct);
        return id;
    }

    async Task<List<string>> HandledNotesAsync()
    {
        await using var connection = new NpgsqlConnection(database.ConnectionString);
        return (await connection.QueryAsync<string>("select note from sample.handled order by handled_at")).ToList();
    }

    async Task<uint> MessagesInAsync(string queue)
    {
        await using var channel = await rabbit.CreateChannelAsync(cancellationToken: Ct);
        return (await channel.QueueDeclarePassiveAsync(queue, Ct)).MessageCount;
    }

    [Fact]
    public async Task An_event_of_a_rolled_back_transaction_is_never_published()
    {
        await using var host = await PlatformHost.StartAsync(database, prefix);

        await CommitEventAsync(host, new ThingHappened("rolled back"), commit: false);
        await CommitEventAsync(host, new ThingHappened("committed after it"));

        await Eventually.TrueAsync(async () => (await HandledNotesAsync()).Count == 1, "the committed event is handled");
        Assert.Equal(["committed after it"], await HandledNotesAsync());
        Assert.DoesNotContain(host.Log.Calls, c => c.Note == "rolled back");
        await using var connection = new NpgsqlConnection(database.ConnectionString);
        Assert.Equal(0, await connection.ExecuteScalarAsync<int>("select count(*) from platform.outbox where payload->>'note' = 'rolled back'"));
    }

    [Fact]
    public async Task A_committed_event_is_published_even_if_the_process_died_before_publishing_it()
    {
        // A web process commits its change and its event, then dies before any relay ran.
        await using (var web = await PlatformHost.StartAsync(database, prefix, runWorkers: false))
            await CommitEventAsync(web, new ThingHappened("survived a crash"));
        await using var connection = new NpgsqlConnection(database.ConnectionString);
        Assert.Equal(1, await connection.ExecuteScalarAsync<int>("select count(*) from platform.outbox where published_at is null"));

        await using var worker = await PlatformHost.StartAsync(database, prefix);

        await Eventually.TrueAsync(async () => (await HandledNotesAsync()).Contains("survived a crash"), "the worker publishes and handles it");
        await Eventually.TrueAsync(async () => await connection.ExecuteScalarAsync<int>("select count(*) from platform.outbox where published_at is null") == 0,
            "the relay stamps the row as published");
    }

    [Fact]
    public async Task A_redelivered_message_is_handled_once()
    {
        await using var host = await PlatformHost.StartAsync(database, prefix);
        var id = await CommitEventAsync(host, new ThingHappened("once"));
        await Eventually.TrueAsync(async () => (await HandledNotesAsync()).Count == 1, "the event is handled");

        // The relay published, then died before stamping the row: it is published again.
        await using (var connection = new NpgsqlConnection(database.ConnectionString))
            await connection.ExecuteAsync("update platform.outbox set published_at = null where id = @id", new { id });
        await CommitEventAsync(host, new ThingHappened("marker"));

        await Eventually.TrueAsync(async () => (await HandledNotesAsync()).Contains("marker"), "the marker behind it is handled");
        await Eventually.TrueAsync(async () => await MessagesInAsync(prefix + ".sample") == 0, "the queue is drained");
        Assert.Equal(["once", "marker"], await HandledNotesAsync());
        await using var check = new NpgsqlConnection(database.ConnectionString);
        Assert.Equal(2, await check.ExecuteScalarAsync<int>("select attempts from platform.outbox where id = @id", new { id }));   // published twice
        Assert.Single(host.Log.Calls, c => c.Note == "once");   // the inbox stopped the second one before the handler
    }

    [Fact]
    public async Task A_failing_handler_is_retried_with_back_off_until_it_succeeds()
    {
        await using var host = await PlatformHost.StartAsync(database, prefix);

        await CommitEventAsync(host, new ThingHappened("fail-twice"));

        await Eventually.TrueAsync(async () => (await HandledNotesAsync()).Contains("fail-twice"), "the third attempt succeeds");
        Assert.Equal([1, 2, 3], host.Log.Calls.Where(c => c.Note == "fail-twice").Select(c => c.Attempt));
        Assert.Equal(0u, await MessagesInAsync(prefix + ".dead-letters"));
    }

    [Fact]
    public async Task A_poison_message_ends_in_the_dead_letter_queue_with_its_reason()
    {
        await using var host = await PlatformHost.StartAsync(database, prefix);

        var id = await CommitEventAsync(host, new ThingHappened("poison"));

        await Eventually.TrueAsync(async () => await MessagesInAsync(prefix + ".dead-letters") == 1, "the message is parked");
        Assert.Equal([1, 2, 3], host.Log.Calls.Where(c => c.Note == "poison").Select(c => c.Attempt));   // MaxDeliveries = 3
        await using var channel = await rabbit.CreateChannelAsync(cancellationToken: Ct);
        var parked = await channel.BasicGetAsync(prefix + ".dead-letters", autoAck: true, Ct);
        Assert.NotNull(parked);
        Assert.Equal(id.ToString(), parked.BasicProperties.MessageId);
        Assert.Equal("sample.thing-happened.v1", parked.BasicProperties.Type);
        var reason = Encoding.UTF8.GetString((byte[])parked.BasicProperties.Headers![EventConsumers.ReasonHeader]!);
        Assert.Equal("sample.ThingHappenedHandler failed on attempt 3: InvalidOperationException: this note always fails", reason);
        Assert.Empty(await HandledNotesAsync());
    }

    [Fact]
    public async Task An_unreadable_message_is_parked_at_once_with_its_reason()
    {
        await using var host = await PlatformHost.StartAsync(database, prefix);
        await using var channel = await rabbit.CreateChannelAsync(cancellationToken: Ct);

        await channel.BasicPublishAsync(prefix + ".events", "sample.thing-happened.v1", mandatory: false,
            new BasicProperties { MessageId = Guid.NewGuid().ToString(), Type = "sample.thing-happened.v1" },
            Encoding.UTF8.GetBytes("{not json"), Ct);

        await Eventually.TrueAsync(async () => await MessagesInAsync(prefix + ".dead-letters") == 1, "the message is parked");
        var parked = await channel.BasicGetAsync(prefix + ".dead-letters", autoAck: true, Ct);
        var reason = Encoding.UTF8.GetString((byte[])parked!.BasicProperties.Headers![EventConsumers.ReasonHeader]!);
        Assert.StartsWith("the payload is not a valid ThingHappened", reason);
        Assert.Empty(host.Log.Calls);
    }

    [Fact]
    public async Task An_event_no_module_consumes_is_kept_in_the_unrouted_queue()
    {
        await using var host = await PlatformHost.StartAsync(database, prefix);

        var id = await CommitEventAsync(host, new NobodyListens("kept"));

        await Eventually.TrueAsync(async () => await MessagesInAsync(prefix + ".unrouted") == 1, "the event reaches the unrouted queue");
        await using var channel = await rabbit.CreateChannelAsync(cancellationToken: Ct);
        var kept = await channel.BasicGetAsync(prefix + ".unrouted", autoAck: true, Ct);
        Assert.Equal(id.ToString(), kept!.BasicProperties.MessageId);
        Assert.Equal("kept", System.Text.Json.JsonDocument.Parse(kept.Body).RootElement.GetProperty("note").GetString());
    }

    [Fact]
    public async Task The_handler_joins_the_trace_of_the_change_that_raised_the_event()
    {
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name.StartsWith(PlatformModule.TelemetryName, StringComparison.Ordinal) || s.Name == "tests",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(listener);
        using var source = new ActivitySource("tests");
        await using var host = await PlatformHost.StartAsync(database, prefix);

        string traceId;
        using (var change = source.StartActivity("change"))
        {
            traceId = change!.TraceId.ToString();
            await CommitEventAsync(host, new ThingHappened("traced"));
        }

        await Eventually.TrueAsync(async () => (await HandledNotesAsync()).Contains("traced"), "the event is handled");
        Assert.Equal(traceId, host.Log.Calls.Single(c => c.Note == "traced").TraceId);
    }
}
