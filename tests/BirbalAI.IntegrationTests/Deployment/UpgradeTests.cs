using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;
using BirbalAI.IntegrationTests.Hosting;
using BirbalAI.Testing;
using Npgsql;

namespace BirbalAI.IntegrationTests.Deployment;

/// <summary>
/// Expand/contract: during an upgrade the previous version's pods keep serving on the new schema until the new ones
/// are ready, so a migration must never break the previous release's queries. Every SQL statement the modules run is
/// a <c>const string …Sql</c>; PostgreSQL parses and plans each one (PREPARE, nothing executed) against the schema
/// every migration made — this version's statements, and those recorded at the previous release in
/// <c>release-queries.json</c> (refreshed when a release is cut: <c>BIRBAL_RECORD_RELEASE_QUERIES=1</c>).
/// </summary>
public sealed partial class UpgradeTests : IAsyncLifetime
{
    const string RecordVariable = "BIRBAL_RECORD_RELEASE_QUERIES";
    static readonly string RecordedPath = Path.Combine(AppProcess.RepoRoot, "tests", "BirbalAI.IntegrationTests", "Deployment", "release-queries.json");
    TestDatabase database = null!;

    public async ValueTask InitializeAsync() => database = await TestDatabase.CreateAsync();

    public ValueTask DisposeAsync() => database.DisposeAsync();

    /// <summary>Every statement constant of the app's assemblies, by "Type.Field" (fragments and utility statements left out).</summary>
    static SortedDictionary<string, string> CurrentStatements()
    {
        var statements = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var assemblies = Directory.GetFiles(AppContext.BaseDirectory, "BirbalAI.*.dll")
            .Where(p => !p.EndsWith("Tests.dll", StringComparison.Ordinal) && !p.EndsWith(".Testing.dll", StringComparison.Ordinal))
            .Select(p => Assembly.Load(AssemblyName.GetAssemblyName(p)));
        foreach (var type in assemblies.SelectMany(a => a.GetTypes()))
            foreach (var field in type.GetFields(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.DeclaredOnly))
                if (field.IsLiteral && field.FieldType == typeof(string) && field.Name.EndsWith("Sql", StringComparison.Ordinal)
                    && field.GetRawConstantValue() is string sql && Statement().IsMatch(sql))
                    statements[$"{type.FullName}.{field.Name}"] = sql;
        return statements;
    }

    /// <summary>The reasons PostgreSQL gives for a statement that does not fit the schema; an empty list when all fit.</summary>
    async Task<List<string>> MisfitsAsync(IReadOnlyDictionary<string, string> statements)
    {
        var misfits = new List<string>();
        await using var connection = new NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        foreach (var (name, sql) in statements)
        {
            // Dapper expands "in @List"; PostgreSQL's own form of it takes an array.
            var text = ListParameter().Replace(sql, "= any(@${name})");
            await using var command = new NpgsqlCommand(text, connection);
            foreach (var parameter in Parameter().Matches(text).Select(m => m.Groups["name"].Value).Distinct(StringComparer.OrdinalIgnoreCase))
                command.Parameters.Add(new NpgsqlParameter(parameter, DBNull.Value));   // untyped: the server infers each type
            try
            {
                await command.PrepareAsync(TestContext.Current.CancellationToken);
                await command.UnprepareAsync(TestContext.Current.CancellationToken);
            }
            // A parameter whose type only the caller's value decides (unnest(@Array)): the tables and columns were resolved first.
            catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.IndeterminateDatatype or PostgresErrorCodes.AmbiguousParameter
                or PostgresErrorCodes.AmbiguousFunction)
            {
            }
            catch (PostgresException e)
            {
                misfits.Add($"{name}: {e.SqlState} {e.MessageText}");
            }
        }
        return misfits;
    }

    [Fact]
    public async Task Every_statement_of_this_version_fits_the_migrated_schema()
    {
        var statements = CurrentStatements();
        Assert.True(statements.Count > 100, $"found only {statements.Count} statements");
        Assert.Contains("BirbalAI.Platform.Documents.PostgresDocumentStore.PutSql", statements.Keys);
        if (Environment.GetEnvironmentVariable(RecordVariable) == "1")
            await File.WriteAllTextAsync(RecordedPath, JsonSerializer.Serialize(statements, new JsonSerializerOptions { WriteIndented = true }) + "\n", TestContext.Current.CancellationToken);

        var misfits = await MisfitsAsync(statements);

        Assert.True(misfits.Count == 0, string.Join("\n", misfits));
    }

    [Fact]
    public async Task Every_statement_of_the_previous_release_still_fits_this_schema()
    {
        var recorded = JsonSerializer.Deserialize<Dictionary<string, string>>(await File.ReadAllTextAsync(RecordedPath, TestContext.Current.CancellationToken))!;
        Assert.True(recorded.Count > 100, $"{RecordedPath} holds only {recorded.Count} statements");

        var misfits = await MisfitsAsync(recorded);

        Assert.True(misfits.Count == 0, "a migration broke the previous release's statements (expand first, contract in a later release):\n"
            + string.Join("\n", misfits));
    }

    [Fact]
    public async Task A_statement_on_a_dropped_column_does_not_fit()
    {
        var misfits = await MisfitsAsync(new Dictionary<string, string>
        {
            ["Old.SelectSql"] = "select id, no_such_column from identity.users where id = @Id",
            ["Old.TableSql"] = "delete from identity.no_such_table where id = @Id",
            ["New.FineSql"] = "select id from identity.users where id = @Id and email in @Emails",
        });

        Assert.Equal(2, misfits.Count);
        Assert.StartsWith("Old.SelectSql: 42703", misfits[0]);
        Assert.StartsWith("Old.TableSql: 42P01", misfits[1]);
    }

    /// <summary>A whole statement (not a where-clause fragment, not a utility command such as LOCK or SET).</summary>
    [GeneratedRegex(@"^\s*(select|insert|update|delete|with|merge|values)\b", RegexOptions.IgnoreCase)]
    private static partial Regex Statement();

    [GeneratedRegex(@"(?<![\w@:])@(?<name>[A-Za-z_]\w*)")]
    private static partial Regex Parameter();

    [GeneratedRegex(@"\bin\s+@(?<name>[A-Za-z_]\w*)", RegexOptions.IgnoreCase)]
    private static partial Regex ListParameter();
}
