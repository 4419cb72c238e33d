using BirbalAI.Platform;
using Hangfire;
using Microsoft.Extensions.DependencyInjection;

namespace BirbalAI.Workers;

public static class WorkersModule
{
    /// <summary>Hangfire's server, the outbox relay and the RabbitMQ consumers — only on roles that run workers.</summary>
    public static IServiceCollection AddWorkers(this IServiceCollection services, HostRole role)
    {
        if (!role.RunsWorkers) return services;
        services.AddHangfireServer((sp, o) =>
        {
            o.WorkerCount = Math.Max(2, Environment.ProcessorCount);
            o.Activator = sp.GetRequiredService<JobActivator>();   // this app's services, never the process-wide JobActivator.Current
        });
        services.AddHostedService<OutboxRelay>();
        services.AddHostedService<EventConsumers>();
        return services;
    }
}
