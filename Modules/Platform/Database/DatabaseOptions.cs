using System.ComponentModel.DataAnnotations;

namespace BirbalAI.Platform.Database;

public sealed class DatabaseOptions
{
    public const string Section = "Database";

    /// <summary>Npgsql connection string of the system of record.</summary>
    [Required] public string ConnectionString { get; set; } = "";

    /// <summary>Seconds to wait for the migration lock held by another replica.</summary>
    [Range(1, 3600)] public int MigrationLockTimeoutSeconds { get; set; } = 120;

    /// <summary>
    /// Apply the migrations at start-up and before a verb (under the advisory lock). False when a deployment runs
    /// `migrate` itself before the new version starts (the Helm chart's job): start-up and verbs then leave the
    /// schema alone, and /readyz stays red until it is up to date.
    /// </summary>
    public bool MigrateOnStart { get; set; } = true;
}
