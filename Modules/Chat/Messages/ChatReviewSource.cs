using System.Text.Json;
using BirbalAI.Contracts.Chat;
using BirbalAI.Contracts.Ml;
using Dapper;
using Npgsql;

namespace BirbalAI.Chat.Messages;

/// <summary>Chat's answers to the review workspace (<see cref="IChatReviewSource"/>): messages waiting for review, and a message's room and context.</summary>
sealed class ChatReviewSource(NpgsqlDataSource db) : IChatReviewSource
{
    public async Task<IReadOnlyList<MessageForReview>> WaitingSinceAsync(DateTimeOffset since, Guid? after, int limit, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var rows = await connection.QueryAsync<WaitingRow>(new CommandDefinition(WaitingSql,
            new { Since = since.UtcDateTime, after, limit = Math.Clamp(limit, 1, 10_000) }, cancellationToken: ct));
        return [.. rows.Select(r => new MessageForReview(r.Id, r.RoomId, r.AuthorId, r.Status == ChatMessages.Held ? "held" : "flagged", r.Text, r.Language,
            JsonSerializer.Deserialize<Dictionary<string, float>>(r.Scores)!,
            [.. (JsonSerializer.Deserialize<List<WatchedWordMatch>>(r.Watched, JsonOptions) ?? []).Select(m => m.Explanation)],
            r.ModelId, r.PolicyVersion, new DateTimeOffset(DateTime.SpecifyKind(r.EditedAt ?? r.PostedAt, DateTimeKind.Utc))))];
    }

    public async Task<RoomContext?> ContextAsync(Guid messageId, int before, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        if (await connection.QuerySingleOrDefaultAsync<(Guid RoomId, string Name, string Status)?>(new CommandDefinition(MessageSql, new { messageId }, cancellationToken: ct))
            is not { } message) return null;
        var previous = await connection.QueryAsync<(Guid Id, string AuthorName, string Text, DateTime PostedAt)>(new CommandDefinition(BeforeSql,
            new { message.RoomId, messageId, Before = Math.Clamp(before, 0, 50) }, cancellationToken: ct));
        return new RoomContext(messageId, message.RoomId, message.Name, message.Status,
            [.. previous.Reverse().Select(p => new ContextMessage(p.Id, p.AuthorName, p.Text, new DateTimeOffset(DateTime.SpecifyKind(p.PostedAt, DateTimeKind.Utc))))]);
    }

    static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);

    sealed record WaitingRow(Guid Id, Guid RoomId, Guid AuthorId, string Status, string Text, string Language, string Scores, string Watched,
        Guid ModelId, int PolicyVersion, DateTime PostedAt, DateTime? EditedAt);

    const string WaitingSql = $"""
        select id, room_id, author_id, status, text, language, scores::text as scores, watched::text as watched, model_id, policy_version, posted_at, edited_at
        from chat.messages
        where {ChatMessages.AwaitingReviewSql} and posted_at > @Since and (@After::uuid is null or id > @After)
        order by id limit @Limit
        """;

    const string MessageSql = """
        select m.room_id, r.name, m.status from chat.messages m join chat.rooms r on r.id = m.room_id where m.id = @MessageId
        """;

    // What the room saw before it: approved messages only, as displayed.
    const string BeforeSql = """
        select id, author_name, coalesce(display_text, text) as text, posted_at from chat.messages
        where room_id = @RoomId and id < @MessageId and status = 'approved'
        order by id desc limit @Before
        """;
}
