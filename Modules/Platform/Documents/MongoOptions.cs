using System.ComponentModel.DataAnnotations;
using MongoDB.Driver;

namespace BirbalAI.Platform.Documents;

/// <summary>
/// The MongoDB document store: used instead of PostgreSQL JSONB when <see cref="ConnectionString"/> is set, with the
/// recurring job platform.sweep-orphan-bodies removing bodies whose PostgreSQL row never committed.
/// </summary>
public sealed class MongoOptions : IValidatableObject
{
    public const string Section = "Mongo";

    /// <summary>A MongoDB connection string (mongodb:// or mongodb+srv://); empty keeps document bodies in PostgreSQL.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>The database holding one collection per document store collection (default "birbal").</summary>
    [Required, RegularExpression(@"^[^/\\. ""$*<>:|?]{1,63}$", ErrorMessage = "must be 1–63 characters without / \\ . space \" $ * < > : | ?")]
    public string Database { get; set; } = "birbal";

    /// <summary>
    /// Minutes a body may exist without a committed PostgreSQL row before the sweeper removes it. The body is written before
    /// its row commits, so this must be longer than any upload's transaction; a body written again is young again.
    /// </summary>
    [Range(5, 7 * 24 * 60)] public int OrphanGraceMinutes { get; set; } = 60;

    /// <summary>When the sweeper runs: a cron expression, UTC (default: minute 41 of every hour); a wrong one stops start-up.</summary>
    [Required] public string SweepSchedule { get; set; } = "41 * * * *";

    /// <summary>Bodies the sweeper looks at per round (one question to their owner, one delete).</summary>
    [Range(10, 10_000)] public int SweepBatchSize { get; set; } = 500;

    public bool Enabled => !string.IsNullOrWhiteSpace(ConnectionString);

    public IEnumerable<ValidationResult> Validate(ValidationContext context)
    {
        if (!Enabled) yield break;
        string? problem = null;
        try
        {
            MongoUrl.Create(ConnectionString);
        }
        catch (Exception e) when (e is MongoConfigurationException or FormatException or ArgumentException)
        {
            problem = e.Message;
        }
        if (problem is not null)
            yield return new ValidationResult($"is not a MongoDB connection string (mongodb://host:27017 or mongodb+srv://…): {problem}", [nameof(ConnectionString)]);
    }
}
