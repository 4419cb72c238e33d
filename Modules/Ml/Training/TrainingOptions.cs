using System.ComponentModel.DataAnnotations;

namespace BirbalAI.Ml.Training;

/// <summary>Training jobs' settings and limits (section "Ml:Training"), checked at start-up.</summary>
sealed class TrainingOptions : IValidatableObject
{
    public const string Section = "Ml:Training";

    /// <summary>Seconds between a running job's heartbeats (progress written, cancellation read).</summary>
    [Range(1, 300)] public int HeartbeatSeconds { get; set; } = 5;

    /// <summary>Seconds without a heartbeat after which a running job's worker counts as dead: the job is queued again or failed.</summary>
    [Range(2, 86_400)] public int HeartbeatTimeoutSeconds { get; set; } = 120;

    /// <summary>Runs a job gets when its worker dies (the first included); then it is marked failed.</summary>
    [Range(1, 10)] public int MaxAttempts { get; set; } = 2;

    /// <summary>Log lines kept with a job (the oldest go first).</summary>
    [Range(10, 100_000)] public int MaxLogLines { get; set; } = 2_000;

    /// <summary>Jobs queued or running at once; more are refused until one ends.</summary>
    [Range(1, 100)] public int MaxActiveJobs { get; set; } = 3;

    /// <summary>New labelled examples (from reviewers' labels) since the last scheduled job that start one (snapshot + n-gram job with defaults); 0 turns the schedule off.</summary>
    [Range(0, 10_000_000)] public int AutoTrainNewLabels { get; set; }

    /// <summary>When the schedule looks for new labels (a Hangfire cron expression).</summary>
    [Required] public string AutoTrainCron { get; set; } = "0 * * * *";

    /// <summary>Test examples a comparison of two versions scores (the version page; scored on request, both versions).</summary>
    [Range(10, 1_000_000)] public int MaxCompareExamples { get; set; } = 5_000;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (HeartbeatTimeoutSeconds < 2 * HeartbeatSeconds)
            yield return new ValidationResult("must be at least twice Ml:Training:HeartbeatSeconds", [nameof(HeartbeatTimeoutSeconds)]);
    }
}
