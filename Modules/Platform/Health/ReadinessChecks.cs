using BirbalAI.Platform.Database;
using BirbalAI.Platform.Messaging;
using Dapper;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;
using StackExchange.Redis;

namespace BirbalAI.Platform.Health;

/// <summary>PostgreSQL answers and every embedded migration has been applied.</summary>
sealed class PostgresReady(NpgsqlDataSource db, IEnumerable<MigrationSource> sources) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct)
    {
        try
        {
            await using var connection = await db.OpenConnectionAsync(ct);
            var applied = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
                "select count(*) from platform.schema_migrations", cancellationToken: ct));
            var expected = Migrator.Discover(sources).Count;
            return applied >= expected
                ? HealthCheckResult.Healthy($"{applied} migrations applied")
                : HealthCheckResult.Unhealthy($"{expected - applied} migrations pending");
        }
        catch (Exception e) when (e is NpgsqlException or PostgresException)
        {
            return HealthCheckResult.Unhealthy(e.Message);
        }
    }
}

sealed class RedisReady(IConnectionMultiplexer redis) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct)
    {
        try
        {
            var latency = await redis.GetDatabase().PingAsync();
            return HealthCheckResult.Healthy($"ping {latency.TotalMilliseconds:0.0} ms");
        }
        catch (RedisException e)
        {
            return HealthCheckResult.Unhealthy(e.Message);
        }
    }
}

sealed class RabbitMqReady(RabbitConnection rabbit) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct)
    {
        try
        {
            var connection = await rabbit.GetAsync(ct);
            return connection.IsOpen ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy("connection closed");
        }
        catch (Exception e) when (e is RabbitMQ.Client.Exceptions.BrokerUnreachableException or IOException)
        {
            return HealthCheckResult.Unhealthy(e.Message);
        }
    }
}

/// <summary>
/// MongoDB answers a ping (registered only with the MongoDB document store). A server that cannot be reached fails after the
/// connection string's serverSelectionTimeoutMS (the driver's default is 30 s).
/// </summary>
sealed class MongoReady(MongoDB.Driver.IMongoClient client, Microsoft.Extensions.Options.IOptions<Documents.MongoOptions> options) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct)
    {
        try
        {
            await client.GetDatabase(options.Value.Database).RunCommandAsync<MongoDB.Bson.BsonDocument>(new MongoDB.Bson.BsonDocument("ping", 1), cancellationToken: ct);
            return HealthCheckResult.Healthy();
        }
        catch (Exception e) when (e is TimeoutException or MongoDB.Driver.MongoException)
        {
            return HealthCheckResult.Unhealthy(e.Message);
        }
    }
}
