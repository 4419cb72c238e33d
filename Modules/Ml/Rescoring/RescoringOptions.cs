using System.ComponentModel.DataAnnotations;

namespace BirbalAI.Ml.Rescoring;

/// <summary>Batch re-scoring's settings and limits (section "Ml:Rescoring"), checked at start-up.</summary>
sealed class RescoringOptions
{
    public const string Section = "Ml:Rescoring";

    /// <summary>Items a job reads and scores at once; the checkpoint is written after each batch.</summary>
    [Range(1, 10_000)] public int BatchSize { get; set; } = 64;

    /// <summary>Pause after each batch, so live traffic keeps the moderator's runners (the throttle).</summary>
    [Range(0, 60_000)] public int PauseMs { get; set; } = 50;

    /// <summary>Hangfire jobs a run is split into, each one hash partition of the content ids: worker replicas take them in parallel.</summary>
    [Range(1, 64)] public int Partitions { get; set; } = 1;

    /// <summary>Runs queued or running at once; more are refused until one ends.</summary>
    [Range(1, 100)] public int MaxActiveRuns { get; set; } = 1;

    /// <summary>Seconds without a batch after which a running partition's worker counts as dead: it is queued again or failed.</summary>
    [Range(2, 86_400)] public int HeartbeatTimeoutSeconds { get; set; } = 300;

    /// <summary>Runs a partition gets when its worker dies (the first included); then the run is marked failed.</summary>
    [Range(1, 10)] public int MaxAttempts { get; set; } = 3;

    /// <summary>Verdicts one <c>ml.verdicts-revised.v1</c> event carries when a run is applied (a run publishes as many as it needs).</summary>
    [Range(1, 10_000)] public int MaxVerdictsPerEvent { get; set; } = 500;

    /// <summary>Changed items listed on a run's page (ids and directions only; the owners keep the text).</summary>
    [Range(0, 10_000)] public int ListedChanges { get; set; } = 50;

    /// <summary>Items an impact preview scores at most: past them it stops, and its page says it was capped.</summary>
    [Range(1, 1_000_000)] public int PreviewMaxItems { get; set; } = 5_000;

    /// <summary>The window an impact preview replays when none is given: content written in the last so many days.</summary>
    [Range(1, 365)] public int PreviewDays { get; set; } = 7;

    /// <summary>The longest window an impact preview may replay, in days.</summary>
    [Range(1, 365)] public int PreviewMaxDays { get; set; } = 90;
}
