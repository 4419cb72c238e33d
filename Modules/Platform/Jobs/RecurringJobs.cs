using System.Linq.Expressions;
using Hangfire;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace BirbalAI.Platform.Jobs;

/// <summary>One recurring Hangfire job of a module: its id ("&lt;module&gt;.&lt;job&gt;") and how to schedule it.</summary>
public sealed record RecurringJobDefinition(string Id, Action<IRecurringJobManager, IServiceProvider> Schedule);

public static class RecurringJobRegistration
{
    /// <summary>
    /// Schedules <paramref name="call"/> as the recurring job <paramref name="id"/> at start-up, on the cron expression
    /// <paramref name="cron"/> reads from the settings (UTC). Every instance writes the same schedule: the last one wins.
    /// </summary>
    public static IServiceCollection AddRecurringJob<TJob>(this IServiceCollection services, string id,
        Expression<Func<TJob, Task>> call, Func<IServiceProvider, string> cron) where TJob : class
    {
        services.AddTransient<TJob>();
        services.AddSingleton(new RecurringJobDefinition(id, (manager, sp) =>
            manager.AddOrUpdate(id, call, cron(sp), new RecurringJobOptions { TimeZone = TimeZoneInfo.Utc })));
        return services;
    }
}

/// <summary>Writes every module's recurring jobs into Hangfire's storage when the app starts (after the migrations).</summary>
sealed class RecurringJobSchedule(IEnumerable<RecurringJobDefinition> jobs, IServiceProvider services) : IHostedService
{
    public Task StartAsync(CancellationToken ct)
    {
        var manager = services.GetRequiredService<IRecurringJobManager>();
        foreach (var job in jobs)
        {
            try
            {
                job.Schedule(manager, services);
            }
            catch (ArgumentException e)
            {
                throw new InvalidOperationException($"Retention:Schedule: the recurring job {job.Id} cannot be scheduled: {e.Message}", e);
            }
        }
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken ct) => Task.CompletedTask;
}
