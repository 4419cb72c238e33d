using BirbalAI.Contracts.Identity;
using BirbalAI.Platform;
using BirbalAI.Platform.Database;
using BirbalAI.Platform.Operations;
using Dapper;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace BirbalAI.Web.Pages.Admin.Platform;

/// <summary>The deployment at a glance, read afresh on every visit: versions, instances, servers, queues, outbox, jobs, migrations.</summary>
[Authorize(Policy = Policies.Admin)]
public sealed class SystemModel(SystemStatus status, HealthCheckService health, NpgsqlDataSource db, HostRole role,
    IEnumerable<MigrationSource> migrations) : PageModel
{
    public string Version => SystemStatus.Version;
    public string Role => role.Name;
    public string Instance => status.Instance;
    public SystemSnapshot Snapshot { get; private set; } = null!;
    public IReadOnlyList<InstanceReport> Instances { get; private set; } = [];
    public HealthReport Health { get; private set; } = null!;
    public IReadOnlyList<ModuleMigrations> Migrations { get; private set; } = [];
    public int MigrationsExpected { get; private set; }
    public bool IsGone(InstanceReport report) => status.IsGone(report);

    public sealed record ModuleMigrations(string Module, long Applied, int Latest, string LatestName, DateTime LastAppliedAt);

    public async Task OnGetAsync(CancellationToken ct)
    {
        Health = await health.CheckHealthAsync(c => c.Tags.Contains("ready"), ct);
        Snapshot = await status.SampleAsync(ct);
        try
        {
            await status.ReportInstanceAsync();
            Instances = await status.InstancesAsync();
        }
        catch (StackExchange.Redis.RedisException)
        {
            // Redis is away: the health table says so; the instance list stays empty.
        }
        MigrationsExpected = Migrator.Discover(migrations).Count;
        try
        {
            await using var connection = await db.OpenConnectionAsync(ct);
            Migrations = (await connection.QueryAsync<ModuleMigrations>(new CommandDefinition(MigrationsSql, cancellationToken: ct))).AsList();
        }
        catch (Exception e) when (e is NpgsqlException or PostgresException)
        {
            // PostgreSQL is away: the health table says so.
        }
    }

    const string MigrationsSql = """
        select module, count(*) as applied, max(version) as latest,
               (array_agg(name order by version desc))[1] as latest_name, max(applied_at) as last_applied_at
        from platform.schema_migrations group by module order by module
        """;
}
