using BirbalAI.Contracts;
using BirbalAI.Platform.Messaging;
using BirbalAI.Testing;
using BirbalAI.Workers;
using Microsoft.Extensions.Configuration;
using Dapper;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace BirbalAI.Platform.Tests.Messaging;

[IntegrationEvent("sample.thing-happened.v1")]
public sealed record ThingHappened(string Note);

[IntegrationEvent("sample.nobody-listens.v1")]
public sealed record NobodyListens(string Note);

/// <summary>Records what it handled in sample.handled; fails as long as its note asks it to.</summary>
sealed class ThingHappenedHandler(HandlerLog log) : IIntegrationEventHandler<ThingHappened>
{
    public async Task HandleAsync(ThingHappened evt, MessageContext context, CancellationToken ct)
    {
        log.Record(evt.Note, context, System.Diagnostics.Activity.Current?.TraceId.ToString());
        if (evt.Note == "poison") throw new InvalidOperationException("this note always fails");
        if (evt.Note.StartsWith("fail-twice") && context.Attempt <= 2) throw new TimeoutException($"transient failure {context.Attempt}");
        await context.Connection.ExecuteAsync(new CommandDefinition(
            "insert into sample.handled (message_id, note) values (@MessageId, @Note)",
            new { context.MessageId, evt.Note }, context.Transaction, cancellationToken: ct));
    }
}

public sealed class HandlerLog
{
    readonly List<(string Note, int Attempt, string? TraceId)> calls = [];
    public void Record(string note, MessageContext context, string? traceId) { lock (calls) calls.Add((note, context.Attempt, traceId)); }
    public IReadOnlyList<(string Note, int Attempt, string? TraceId)> Calls { get { lock (calls) return calls.ToList(); } }
}

/// <summary>
/// Platform and Workers alone — no module, no pages — on the real servers, as a worker process runs them,
/// with the test-only "sample" module's migrations and handler.
/// </summary>
public sealed class PlatformHost : IAsyncDisposable
{
    PlatformHost(WebApplication app, HandlerLog log)
    {
        App = app;
        Log = log;
    }

    public WebApplication App { get; }
    public HandlerLog Log { get; }
    public IServiceProvider Services => App.Services;

    public static async Task<PlatformHost> StartAsync(TestDatabase database, string prefix, bool runWorkers = true, HandlerLog? log = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["role"] = runWorkers ? "worker" : "web",
            ["Listen:Web"] = "http://127.0.0.1:0",
            ["Listen:Worker"] = "http://127.0.0.1:0",
            ["Listen:Grpc"] = "",
            ["Database:ConnectionString"] = database.ConnectionString,
            ["Redis:ConnectionString"] = TestServers.Redis,
            ["Redis:KeyPrefix"] = prefix + ":",
            ["RabbitMq:Uri"] = TestServers.RabbitMq,
            ["RabbitMq:Prefix"] = prefix + ".",
            ["RabbitMq:MaxDeliveries"] = "3",
            ["RabbitMq:RetryDelaysMs"] = "50,100",
            ["RabbitMq:RelayIdleMs"] = "200",
            ["Secrets:JwtSigningKey"] = "test-jwt-signing-key-0123456789abcdef0123456789",
            ["Secrets:EncryptionKey"] = "test-encryption-key-0123456789abcdef0123456789",
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:Console:FormatterName"] = "simple",
        });
        var role = builder.AddPlatform();
        log ??= new HandlerLog();
        builder.Services.AddSingleton(log);
        builder.Services.AddMigrations("sample", typeof(PlatformHost).Assembly);
        builder.Services.AddEventHandler<ThingHappened, ThingHappenedHandler>("sample");
        builder.Services.AddWorkers(role);
        var app = builder.Build();
        app.MapPlatform();
        await app.StartAsync();
        return new PlatformHost(app, log);
    }

    public async ValueTask DisposeAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
    }
}
