using System.ComponentModel.DataAnnotations;

namespace BirbalAI.Platform.Jobs;

/// <summary>How long Platform keeps what it only needs for a while; enforced by the recurring job platform.purge-messaging.</summary>
public sealed class RetentionOptions : IValidatableObject
{
    public const string Section = "Retention";

    /// <summary>When the purge jobs of every module run: a cron expression, UTC (default 03:17 every day); a wrong one stops start-up.</summary>
    [Required] public string Schedule { get; set; } = "17 3 * * *";

    /// <summary>Days a published outbox row is kept (for looking into what was sent); unpublished rows are never purged.</summary>
    [Range(1, 3650)] public int PublishedOutboxDays { get; set; } = 7;

    /// <summary>
    /// Days an inbox row (message, handler) is kept. A message redelivered after its row is gone would be handled again,
    /// so this is at least <see cref="DeadLetterDays"/> (a parked message can be requeued until then).
    /// </summary>
    [Range(1, 3650)] public int InboxDays { get; set; } = 30;

    /// <summary>Days a message stays in the dead-letter queue before it is dropped.</summary>
    [Range(1, 3650)] public int DeadLetterDays { get; set; } = 30;

    /// <summary>Days Hangfire keeps a finished (succeeded or deleted) job before it expires.</summary>
    [Range(1, 3650)] public int FinishedJobDays { get; set; } = 7;

    /// <summary>Rows deleted per statement, so a large purge never holds long locks.</summary>
    [Range(100, 1_000_000)] public int BatchSize { get; set; } = 10_000;

    public IEnumerable<ValidationResult> Validate(ValidationContext context)
    {
        if (InboxDays < DeadLetterDays)
            yield return new ValidationResult($"must be at least Retention:DeadLetterDays ({DeadLetterDays}): a requeued message would be handled twice", [nameof(InboxDays)]);
    }
}

public static class RetentionSchedule
{
    /// <summary>The cron expression every module's purge job runs on (<see cref="RetentionOptions.Schedule"/>).</summary>
    public static string Of(IServiceProvider services) =>
        Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<Microsoft.Extensions.Options.IOptions<RetentionOptions>>(services).Value.Schedule;
}
