using System.Text.Json;
using Dapper;
using Npgsql;

namespace BirbalAI.Platform.Documents;

/// <summary>
/// Bodies of content kept as JSON documents, by collection and id (Documents keeps each upload's original file and
/// extracted text here). The default stores them in PostgreSQL as JSONB (table platform.documents): a write given the
/// caller's transaction commits or rolls back with it. Writes are idempotent by (collection, id): writing again replaces.
/// </summary>
public interface IDocumentStore
{
    Task PutAsync<T>(string collection, Guid id, T body, NpgsqlConnection? connection, NpgsqlTransaction? tx, CancellationToken ct) where T : class;

    Task<T?> GetAsync<T>(string collection, Guid id, CancellationToken ct) where T : class;

    Task DeleteAsync(string collection, Guid id, NpgsqlConnection? connection, NpgsqlTransaction? tx, CancellationToken ct);

    /// <summary>Every id in <paramref name="collection"/> after <paramref name="after"/>, in order, at most <paramref name="limit"/>.</summary>
    Task<IReadOnlyList<Guid>> IdsAsync(string collection, Guid? after, int limit, CancellationToken ct);
}

/// <summary>The PostgreSQL JSONB document store (the default).</summary>
public sealed class PostgresDocumentStore(NpgsqlDataSource db) : IDocumentStore
{
    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async Task PutAsync<T>(string collection, Guid id, T body, NpgsqlConnection? connection, NpgsqlTransaction? tx, CancellationToken ct) where T : class
    {
        var args = new CommandDefinition(PutSql, new { collection, id, Body = JsonSerializer.Serialize(body, Json) }, tx, cancellationToken: ct);
        if (connection is not null) await connection.ExecuteAsync(args);
        else
        {
            await using var own = await db.OpenConnectionAsync(ct);
            await own.ExecuteAsync(args);
        }
    }

    public async Task<T?> GetAsync<T>(string collection, Guid id, CancellationToken ct) where T : class
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var body = await connection.ExecuteScalarAsync<string?>(new CommandDefinition(GetSql, new { collection, id }, cancellationToken: ct));
        return body is null ? null : JsonSerializer.Deserialize<T>(body, Json);
    }

    public async Task DeleteAsync(string collection, Guid id, NpgsqlConnection? connection, NpgsqlTransaction? tx, CancellationToken ct)
    {
        var args = new CommandDefinition(DeleteSql, new { collection, id }, tx, cancellationToken: ct);
        if (connection is not null) await connection.ExecuteAsync(args);
        else
        {
            await using var own = await db.OpenConnectionAsync(ct);
            await own.ExecuteAsync(args);
        }
    }

    public async Task<IReadOnlyList<Guid>> IdsAsync(string collection, Guid? after, int limit, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<Guid>(new CommandDefinition(IdsSql, new { collection, after, limit }, cancellationToken: ct))).AsList();
    }

    const string PutSql = """
        insert into platform.documents (collection, id, body) values (@Collection, @Id, @Body::jsonb)
        on conflict (collection, id) do update set body = excluded.body, updated_at = now()
        """;

    const string GetSql = "select body::text from platform.documents where collection = @Collection and id = @Id";

    const string DeleteSql = "delete from platform.documents where collection = @Collection and id = @Id";

    const string IdsSql = """
        select id from platform.documents where collection = @Collection and (@After::uuid is null or id > @After) order by id limit @Limit
        """;
}
