using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Dapper;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace BirbalAI.Platform.Database;

/// <summary>The SQL files one module embeds under Migrations/NNNN_verb_noun.sql.</summary>
public sealed record MigrationSource(string Module, Assembly Assembly);

public sealed record Migration(string Module, int Version, string Name, string Sql)
{
    public string Checksum { get; } = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Sql.ReplaceLineEndings("\n"))));
}

public sealed class MigrationException(string message) : Exception(message);

/// <summary>
/// Applies every module's embedded migrations in order, each in its own transaction, under a
/// PostgreSQL advisory lock so replicas starting together never race. Applied files are recorded with
/// their checksum; a file edited after it was applied stops start-up.
/// </summary>
public sealed partial class Migrator(
    NpgsqlDataSource db, IEnumerable<MigrationSource> sources, IOptions<DatabaseOptions> options, ILogger<Migrator> logger)
{
    // Any stable 64-bit number; "birbal-migrations" in ASCII would not fit.
    const long LockKey = 0x42_69_72_62_61_6c_01;

    public static IReadOnlyList<Migration> Discover(IEnumerable<MigrationSource> sources)
    {
        var migrations = new List<Migration>();
        foreach (var source in sources)
        {
            foreach (var resource in source.Assembly.GetManifestResourceNames().Where(r => r.EndsWith(".sql", StringComparison.Ordinal)))
            {
                var match = FileName().Match(resource);
                if (!match.Success) continue;
                using var stream = source.Assembly.GetManifestResourceStream(resource)!;
                using var reader = new StreamReader(stream);
                migrations.Add(new Migration(source.Module, int.Parse(match.Groups["version"].Value),
                    match.Groups["name"].Value, reader.ReadToEnd()));
            }
        }
        var duplicate = migrations.GroupBy(m => (m.Module, m.Version)).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            throw new MigrationException($"Module {duplicate.Key.Module} has two migrations numbered {duplicate.Key.Version:0000}.");
        // Platform first (everything else stands on it), then modules in registration order.
        var order = sources.Select((s, i) => (s.Module, i)).ToDictionary(x => x.Module, x => x.i);
        return migrations.OrderBy(m => order[m.Module]).ThenBy(m => m.Version).ToList();
    }

    /// <returns>The migrations this call applied.</returns>
    public async Task<IReadOnlyList<Migration>> MigrateAsync(CancellationToken ct)
    {
        var migrations = Discover(sources);
        await using var connection = await db.OpenConnectionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition(
            $"set lock_timeout = '{options.Value.MigrationLockTimeoutSeconds}s'", cancellationToken: ct));
        await connection.ExecuteAsync(new CommandDefinition("select pg_advisory_lock(@LockKey)", new { LockKey }, cancellationToken: ct));
        await connection.ExecuteAsync(new CommandDefinition("set lock_timeout = 0", cancellationToken: ct));
        try
        {
            await connection.ExecuteAsync(new CommandDefinition(HistorySql, cancellationToken: ct));
            var applied = (await connection.QueryAsync<(string Module, int Version, string Name, string Checksum)>(
                    new CommandDefinition(AppliedSql, cancellationToken: ct)))
                .ToDictionary(a => (a.Module, a.Version));

            var done = new List<Migration>();
            foreach (var migration in migrations)
            {
                if (applied.TryGetValue((migration.Module, migration.Version), out var previous))
                {
                    if (previous.Checksum != migration.Checksum)
                        throw new MigrationException(
                            $"Migration {migration.Module}/{migration.Version:0000}_{migration.Name}.sql was edited after it was applied " +
                            $"(checksum {previous.Checksum[..12]} in the database, {migration.Checksum[..12]} now). " +
                            "Applied migrations are never edited: restore the file and add a new migration.");
                    continue;
                }
                await using var tx = await connection.BeginTransactionAsync(ct);
                try
                {
                    await connection.ExecuteAsync(new CommandDefinition(migration.Sql, transaction: tx, cancellationToken: ct));
                }
                catch (PostgresException e)
                {
                    throw new MigrationException(
                        $"Migration {migration.Module}/{migration.Version:0000}_{migration.Name}.sql failed: {e.MessageText}");
                }
                await connection.ExecuteAsync(new CommandDefinition(RecordSql,
                    new { migration.Module, migration.Version, migration.Name, migration.Checksum }, tx, cancellationToken: ct));
                await tx.CommitAsync(ct);
                done.Add(migration);
                logger.LogInformation("Applied migration {Module}/{Version:0000}_{Name}", migration.Module, migration.Version, migration.Name);
            }
            return done;
        }
        finally
        {
            await connection.ExecuteAsync(new CommandDefinition("select pg_advisory_unlock(@LockKey)", new { LockKey }, cancellationToken: CancellationToken.None));
        }
    }

    /// <summary>
    /// For a deployment that migrates on its own (Database:MigrateOnStart=false): refuses to start while any
    /// migration is not applied yet, naming how many and what to run, instead of failing later on a missing table.
    /// </summary>
    public async Task EnsureUpToDateAsync(CancellationToken ct)
    {
        var migrations = Discover(sources);
        await using var connection = await db.OpenConnectionAsync(ct);
        var applied = await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
                "select to_regclass('platform.schema_migrations') is not null", cancellationToken: ct))
            ? (await connection.QueryAsync<(string Module, int Version)>(new CommandDefinition(
                "select module, version from platform.schema_migrations", cancellationToken: ct))).ToHashSet()
            : [];
        var pending = migrations.Where(m => !applied.Contains((m.Module, m.Version))).ToList();
        if (pending.Count > 0)
            throw new MigrationException(
                $"{pending.Count} migration(s) not applied yet (first: {pending[0].Module}/{pending[0].Version:0000}_{pending[0].Name}) and " +
                "Database:MigrateOnStart is false: run `migrate` first (the Helm chart's migration job does).");
    }

    [GeneratedRegex(@"\.(?<version>\d{4})_(?<name>[a-z0-9_]+)\.sql$")]
    private static partial Regex FileName();

    const string HistorySql = """
        create schema if not exists platform;
        create table if not exists platform.schema_migrations (
            module     text        not null,
            version    int         not null,
            name       text        not null,
            checksum   text        not null,
            applied_at timestamptz not null default now(),
            primary key (module, version)
        );
        """;

    const string AppliedSql = "select module, version, name, checksum from platform.schema_migrations";

    const string RecordSql = """
        insert into platform.schema_migrations (module, version, name, checksum)
        values (@Module, @Version, @Name, @Checksum)
        """;
}
