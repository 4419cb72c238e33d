using System.ComponentModel.DataAnnotations;

namespace BirbalAI.Platform.Database;

public sealed class DatabaseOptions
{
    public const string Section = "Database";

    /// <summary>Npgsql connection string of the system of record.</summary>
    [Required] public string ConnectionString { get; set; } = "";

    /// <summary>Seconds to wait for the migration lock held by another replica.</summary>
    [Range(1, 3600)] public int MigrationLockTimeoutSeconds { get; set; } = 120;
}
