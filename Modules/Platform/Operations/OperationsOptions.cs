using System.ComponentModel.DataAnnotations;

namespace BirbalAI.Platform.Operations;

/// <summary>How often each process samples what the System page and /metrics show of the whole deployment.</summary>
public sealed class OperationsOptions
{
    public const string Section = "Operations";

    /// <summary>
    /// Milliseconds between samples of the queue depths (a passive declare per queue), the outbox lag, Hangfire's
    /// job counts and this instance's heartbeat. An instance not heard from for three intervals is shown as gone.
    /// </summary>
    [Range(100, 3_600_000)] public int SampleIntervalMs { get; set; } = 15_000;
}
