using BirbalAI.Platform.Database;
using BirbalAI.Platform.Tests.Messaging;
using BirbalAI.Testing;
using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;

namespace BirbalAI.Platform.Tests.Database;

public sealed class MigratorTests : IAsyncLifetime
{
    TestDatabase database = null!;
    NpgsqlDataSource db = null!;

    static readonly MigrationSource[] Sources =
    [
        new("platform", typeof(PlatformModule).Assembly),
        new("sample", typeof(PlatformHost).Assembly),
    ];

    public async ValueTask InitializeAsync()
    {
        database = await TestDatabase.CreateEmptyAsync();
        db = NpgsqlDataSource.Create(database.ConnectionString);
    }

    public async ValueTask DisposeAsync()
    {
        await db.DisposeAsync();
        await database.DisposeAsync();
    }

    Migrator NewMigrator() => new(db, Sources, Options.Create(new DatabaseOptions { ConnectionString = database.ConnectionString }),
        NullLogger<Migrator>.Instance);

    [Fact]
    public async Task Applies_every_module_in_order_and_records_each_file_with_its_checksum()
    {
        var applied = await NewMigrator().MigrateAsync(TestContext.Current.CancellationToken);

        Assert.Equal(["platform/1", "platform/2", "platform/3", "sample/1", "sample/2"], applied.Select(m => $"{m.Module}/{m.Version}"));
        await using var connection = await db.OpenConnectionAsync(TestContext.Current.CancellationToken);
        var rows = (await connection.QueryAsync<(string Module, int Version, string Name, string Checksum)>(
            "select module, version, name, checksum from platform.schema_migrations order by module, version")).ToList();
        Assert.Equal(applied.Select(m => (m.Module, m.Version, m.Name, m.Checksum)), rows);
        // 0002 altered the table 0001 created: only possible in order.
        Assert.True(await connection.ExecuteScalarAsync<bool>(
            "select exists (select 1 from information_schema.columns where table_schema = 'sample' and column_name = 'handled_at')"));
    }

    [Fact]
    public async Task A_second_run_applies_nothing()
    {
        await NewMigrator().MigrateAsync(TestContext.Current.CancellationToken);

        var again = await NewMigrator().MigrateAsync(TestContext.Current.CancellationToken);

        Assert.Empty(again);
    }

    [Fact]
    public async Task Replicas_starting_together_apply_each_file_once()
    {
        var runs = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => NewMigrator().MigrateAsync(TestContext.Current.CancellationToken)));

        var files = Migrator.Discover(Sources).Count;
        Assert.Equal(files, runs.Sum(r => r.Count));
        await using var connection = await db.OpenConnectionAsync(TestContext.Current.CancellationToken);
        Assert.Equal(files, await connection.ExecuteScalarAsync<int>("select count(*) from platform.schema_migrations"));
    }

    [Fact]
    public async Task An_applied_file_that_was_edited_stops_start_up_with_a_clear_message()
    {
        await NewMigrator().MigrateAsync(TestContext.Current.CancellationToken);
        await using (var connection = await db.OpenConnectionAsync(TestContext.Current.CancellationToken))
            await connection.ExecuteAsync("update platform.schema_migrations set checksum = 'abcdef0123456789' where module = 'sample' and version = 1");

        var error = await Assert.ThrowsAsync<MigrationException>(() => NewMigrator().MigrateAsync(TestContext.Current.CancellationToken));

        Assert.Contains("sample/0001_create_handled.sql was edited after it was applied", error.Message);
        Assert.Contains("add a new migration", error.Message);
    }

    [Fact]
    public async Task A_failing_migration_names_its_file_and_leaves_nothing_half_applied()
    {
        await using (var connection = await db.OpenConnectionAsync(TestContext.Current.CancellationToken))
            await connection.ExecuteAsync("create schema sample");   // 0001 will fail on "create schema sample"

        var error = await Assert.ThrowsAsync<MigrationException>(() => NewMigrator().MigrateAsync(TestContext.Current.CancellationToken));

        Assert.Contains("sample/0001_create_handled.sql failed", error.Message);
        await using var check = await db.OpenConnectionAsync(TestContext.Current.CancellationToken);
        Assert.Equal(["platform"], await check.QueryAsync<string>("select distinct module from platform.schema_migrations"));
        Assert.False(await check.ExecuteScalarAsync<bool>("select to_regclass('sample.handled') is not null"));
    }
}
