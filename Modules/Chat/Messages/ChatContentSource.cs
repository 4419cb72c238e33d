using System.Text.Json;
using BirbalAI.Contracts.Chat;
using Dapper;
using Npgsql;

namespace BirbalAI.Chat.Messages;

/// <summary>Chat's stored messages for re-scoring (<see cref="IChatContentSource"/>): paged by id, optionally one hash partition of them.</summary>
sealed class ChatContentSource(NpgsqlDataSource db) : IChatContentSource
{
    public async Task<IReadOnlyList<StoredMessage>> MessagesAfterAsync(Guid? after, int limit, int partition, int partitions, DateTimeOffset? since, CancellationToken ct)
    {
        if (partitions < 1 || partition < 0 || partition >= partitions) throw new ArgumentOutOfRangeException(nameof(partition), $"partition {partition} of {partitions}");
        await using var connection = await db.OpenConnectionAsync(ct);
        var rows = await connection.QueryAsync<Row>(new CommandDefinition(Sql,
            new { after, Limit = Math.Clamp(limit, 1, 10_000), partition, partitions, Since = since?.UtcDateTime }, cancellationToken: ct));
        return [.. rows.Select(r => new StoredMessage(r.Id, r.Text, r.Language, r.Status, r.Action, JsonSerializer.Deserialize<Dictionary<string, float>>(r.Scores)!,
            r.ModelId, r.ModelVersion, r.PolicyVersion, new DateTimeOffset(DateTime.SpecifyKind(r.WrittenAt, DateTimeKind.Utc))))];
    }

    public async Task<long> CountAsync(DateTimeOffset? since, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return await connection.ExecuteScalarAsync<long>(new CommandDefinition("""
            select count(*) from chat.messages
            where status in ('approved', 'held', 'rejected') and (@Since::timestamptz is null or coalesce(edited_at, posted_at) >= @Since)
            """, new { Since = since?.UtcDateTime }, cancellationToken: ct));
    }

    sealed record Row(Guid Id, string Text, string Language, string Status, string Action, string Scores, Guid ModelId, int ModelVersion, int PolicyVersion, DateTime WrittenAt);

    // The text as written (not as displayed): that is what the moderator judged. The partition is a hash of the id, stable for ever.
    const string Sql = """
        select id, text, language, status, action, scores::text as scores, model_id, model_version, policy_version, coalesce(edited_at, posted_at) as written_at
        from chat.messages
        where status in ('approved', 'held', 'rejected') and (@After::uuid is null or id > @After)
          and (@Since::timestamptz is null or coalesce(edited_at, posted_at) >= @Since)
          and (@Partitions = 1 or mod(hashtext(id::text)::bigint + 2147483648, @Partitions) = @Partition)
        order by id limit @Limit
        """;
}
