using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using BirbalAI.Platform.Database;
using Dapper;
using Hangfire.PostgreSql;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;

namespace BirbalAI.Testing;

/// <summary>
/// A database of its own for one test class, cloned from a template that is migrated once per set of
/// migrations (its name carries their hash, so an edited or added migration builds a new template).
/// Test processes running side by side agree through an advisory lock.
/// </summary>
public sealed partial class TestDatabase : IAsyncDisposable
{
    const long TemplateLock = 0x42_69_72_62_61_6c_02;
    static readonly SemaphoreSlim Gate = new(1, 1);
    static string? template;

    TestDatabase(string name) => Name = name;

    public string Name { get; }
    public string ConnectionString => TestServers.Postgres(Name);

    /// <summary>Every module library next to the tests that embeds migrations, Platform first.</summary>
    public static IReadOnlyList<MigrationSource> Sources { get; } = DiscoverSources();

    public static async Task<TestDatabase> CreateAsync()
    {
        var templateName = await EnsureTemplateAsync();
        var name = TestServers.UniqueName();
        await using var admin = new NpgsqlConnection(TestServers.Postgres("postgres"));
        await admin.OpenAsync();
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await admin.ExecuteAsync($"create database {name} template {templateName}");
                return new TestDatabase(name);
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.ObjectInUse && attempt < 20)
            {
                await Task.Delay(100 * attempt);   // another process is still closing its template connection
            }
        }
    }

    /// <summary>An empty database (no migrations), for testing the migrator itself.</summary>
    public static async Task<TestDatabase> CreateEmptyAsync()
    {
        var name = TestServers.UniqueName();
        await using var admin = new NpgsqlConnection(TestServers.Postgres("postgres"));
        await admin.OpenAsync();
        await admin.ExecuteAsync($"create database {name}");
        return new TestDatabase(name);
    }

    static async Task<string> EnsureTemplateAsync()
    {
        await Gate.WaitAsync();
        try
        {
            if (template is not null) return template;
            var migrations = Migrator.Discover(Sources);
            var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(
                string.Join("\n", migrations.Select(m => $"{m.Module}/{m.Version}/{m.Checksum}"))
                + typeof(PostgreSqlStorage).Assembly.GetName().Version)))[..16];
            var name = $"birbal_template_{hash}";

            await using var admin = new NpgsqlConnection(TestServers.Postgres("postgres"));
            await admin.OpenAsync();
            await admin.ExecuteAsync("select pg_advisory_lock(@TemplateLock)", new { TemplateLock });
            try
            {
                var exists = await admin.ExecuteScalarAsync<bool>(
                    "select exists (select 1 from pg_database where datname = @name and datistemplate)", new { name });
                if (!exists)
                {
                    await admin.ExecuteAsync($"drop database if exists {name} with (force)");
                    await admin.ExecuteAsync($"create database {name}");
                    var connectionString = TestServers.Postgres(name);
                    await using (var db = NpgsqlDataSource.Create(connectionString + ";Pooling=false"))
                    {
                        await new Migrator(db, Sources, Options.Create(new DatabaseOptions { ConnectionString = connectionString }),
                            NullLogger<Migrator>.Instance).MigrateAsync(CancellationToken.None);
                        await using var connection = await db.OpenConnectionAsync();
                        PostgreSqlObjectsInstaller.Install(connection, "hangfire");
                    }
                    await admin.ExecuteAsync($"alter database {name} with is_template true allow_connections false");
                }
            }
            finally
            {
                await admin.ExecuteAsync("select pg_advisory_unlock(@TemplateLock)", new { TemplateLock });
            }
            return template = name;
        }
        finally
        {
            Gate.Release();
        }
    }

    static IReadOnlyList<MigrationSource> DiscoverSources()
    {
        var directory = AppContext.BaseDirectory;
        var sources = Directory.GetFiles(directory, "BirbalAI.*.dll")
            .Where(path => !path.EndsWith("Tests.dll", StringComparison.Ordinal) && !path.EndsWith(".Testing.dll", StringComparison.Ordinal))
            .Select(path => Assembly.Load(AssemblyName.GetAssemblyName(path)))
            .Where(a => a.GetManifestResourceNames().Any(r => MigrationResource().IsMatch(r)))
            .Select(a => new MigrationSource(a.GetName().Name!["BirbalAI.".Length..].ToLowerInvariant(), a))
            .OrderBy(s => s.Module == "platform" ? 0 : 1).ThenBy(s => s.Module, StringComparer.Ordinal)
            .ToList();
        return sources;
    }

    [GeneratedRegex(@"\.Migrations\.\d{4}_[a-z0-9_]+\.sql$")]
    private static partial Regex MigrationResource();

    /// <summary>What Hangfire holds in this database, for a failure message: its servers, the last jobs and their states, the queue.</summary>
    public async Task<string> DescribeHangfireAsync()
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        var servers = await connection.QueryAsync<string>(
            "select id || ' (heartbeat ' || extract(epoch from now() - lastheartbeat)::int || ' s ago)' from hangfire.server");
        var jobs = await connection.QueryAsync<string>("""
            select j.id || ' ' || coalesce(j.statename, '?') || ' ' || (j.invocationdata::jsonb ->> 'Type') || '.' || (j.invocationdata::jsonb ->> 'Method')
                || ' created ' || extract(epoch from now() - j.createdat)::int || ' s ago; states: '
                || coalesce((select string_agg(s.name || coalesce(' (' || left(s.reason, 80) || ')', '') || coalesce(' [' || left(s.data::jsonb ->> 'ExceptionDetails', 600) || ']', ''), ' > ' order by s.id) from hangfire.state s where s.jobid = j.id), '')
            from hangfire.job j order by j.id desc limit 10
            """);
        var queue = await connection.QueryAsync<string>(
            "select queue || ':' || jobid || coalesce(' fetched ' || extract(epoch from now() - fetchedat)::int || ' s ago', ' waiting') from hangfire.jobqueue order by id");
        return $"Hangfire servers: [{string.Join("; ", servers)}]; jobs: [{string.Join("; ", jobs)}]; queue: [{string.Join("; ", queue)}]";
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await using var admin = new NpgsqlConnection(TestServers.Postgres("postgres"));
        await admin.OpenAsync();
        await admin.ExecuteAsync($"drop database if exists {Name} with (force)");
    }
}
