using Dapper;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace BirbalAI.Identity.Jobs;

/// <summary>Identity's retention (recurring job identity.purge-audit): audit entries older than <see cref="IdentityOptions.AuditRetentionDays"/>.</summary>
sealed class PurgeAuditJob(NpgsqlDataSource db, IOptions<IdentityOptions> options, TimeProvider clock, ILogger<PurgeAuditJob> logger)
{
    public const string Id = "identity.purge-audit";
    const int BatchSize = 10_000;

    public async Task<long> RunAsync(CancellationToken ct)
    {
        var before = clock.GetUtcNow().AddDays(-options.Value.AuditRetentionDays);
        long total = 0;
        await using var connection = await db.OpenConnectionAsync(ct);
        int deleted;
        do
        {
            deleted = await connection.ExecuteAsync(new CommandDefinition(PurgeSql, new { before, BatchSize }, cancellationToken: ct));
            total += deleted;
        } while (deleted == BatchSize);
        logger.LogInformation("Retention: removed {Count} audit entries older than {Days} days", total, options.Value.AuditRetentionDays);
        return total;
    }

    const string PurgeSql = """
        delete from identity.audit_log where id in (select id from identity.audit_log where at < @Before limit @BatchSize)
        """;
}
