using System.Linq.Expressions;
using Hangfire;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace BirbalAI.Platform.Jobs;

/// <summary>
/// One recurring Hangfire job of a module: its id ("&lt;module&gt;.&lt;job&gt;"), how to schedule it, and the setting that holds
/// its cron expression (named when that expression is wrong).
/// </summary>
public sealed record RecurringJobDefinition(string Id, Action<IRecurringJobManager, IServiceProvider> Schedule, string Setting = "Retention:Schedule");

public static class RecurringJobRegistration
{
    /// <summary>
    /// Schedules <paramref name="call"/> as the recurring job <paramref name="id"/> at start-up, on the cron expression
    /// <paramref name="cron"/> reads from the settings (UTC; <paramref name="setting"/> names them). Every instance writes the
    /// same schedule: the last one wins. When <paramref name="when"/> says no, the job is not scheduled (and a schedule left
    /// from an earlier configuration is removed).
    /// </summary>
    public static IServiceCollection AddRecurringJob<TJob>(this IServiceCollection services, string id,
        Expression<Func<TJob, Task>> call, Func<IServiceProvider, string> cron, Func<IServiceProvider, bool>? when = null,
        string setting = "Retention:Schedule") where TJob : class
    {
        services.AddTransient<TJob>();
        services.AddSingleton(new RecurringJobDefinition(id, (manager, sp) =>
        {
            if (when is null || when(sp)) manager.AddOrUpdate(id, call, cron(sp), new RecurringJobOptions { TimeZone = TimeZoneInfo.Utc });
            else manager.RemoveIfExists(id);
        }, setting));
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
                throw new InvalidOperationException($"{job.Setting}: the recurring job {job.Id} cannot be scheduled: {e.Message}", e);
            }
        }
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken ct) => Task.CompletedTask;
}
