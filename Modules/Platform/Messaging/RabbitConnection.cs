using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RabbitMQ.Client;

namespace BirbalAI.Platform.Messaging;

/// <summary>The process's one AMQP connection (channels are cheap; connections are not), recovered automatically.</summary>
public sealed class RabbitConnection(IOptions<RabbitMqOptions> options, ILogger<RabbitConnection> logger) : IAsyncDisposable
{
    readonly SemaphoreSlim gate = new(1, 1);
    IConnection? connection;

    public RabbitMqOptions Options => options.Value;

    public async Task<IConnection> GetAsync(CancellationToken ct)
    {
        if (connection is { } existing) return existing;
        await gate.WaitAsync(ct);
        try
        {
            if (connection is not null) return connection;
            var factory = new ConnectionFactory
            {
                Uri = new Uri(options.Value.Uri),
                ClientProvidedName = $"birbal-{Environment.MachineName}-{Environment.ProcessId}",
                AutomaticRecoveryEnabled = true,
                TopologyRecoveryEnabled = true,
                NetworkRecoveryInterval = TimeSpan.FromSeconds(2),
            };
            connection = await factory.CreateConnectionAsync(ct);
            logger.LogInformation("Connected to RabbitMQ at {Host}:{Port}", factory.HostName, factory.Port);
            return connection;
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>A channel whose publishes complete only once the broker has confirmed them (throw on nack).</summary>
    public async Task<IChannel> CreateConfirmingChannelAsync(CancellationToken ct) =>
        await (await GetAsync(ct)).CreateChannelAsync(
            new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true), ct);

    public async ValueTask DisposeAsync()
    {
        if (connection is { } open)
        {
            // Each step bounded (see RabbitShutdown); a connection that does not close cleanly is aborted (its socket closed
            // without waiting for the broker), and one neither closed nor aborted is left to the process's exit.
            var closed = await RabbitShutdown.WithinAsync(() => open.CloseAsync(RabbitShutdown.StepLimit), logger, "Closing the RabbitMQ connection")
                || await RabbitShutdown.WithinAsync(() => open.AbortAsync(RabbitShutdown.StepLimit), logger, "Aborting the RabbitMQ connection");
            if (closed) await RabbitShutdown.WithinAsync(() => open.DisposeAsync().AsTask(), logger, "Disposing the RabbitMQ connection");
        }
        gate.Dispose();
    }
}
