using System.Text.Json;
using BirbalAI.Annotation.Projects;
using BirbalAI.Contracts.Annotation;
using BirbalAI.Contracts.Chat;
using BirbalAI.Contracts.Ml;
using Dapper;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace BirbalAI.Annotation.Tasks;

/// <summary>One category of a task's explanation: the recomputed verdict's score, action and contributing n-grams.</summary>
sealed record ExplainedCategory(string Category, float Score, string Action, IReadOnlyList<Contribution> Explanation, string? DrivenBy);

/// <summary>
/// Held and flagged chat messages become moderation tasks. The events carry no explanation, so it is recomputed through
/// <see cref="IModerator"/> with the model version that scored the message (its id is in the event); when that version is
/// gone from the registry, with the production model, and the task says which version explained it (explained_with).
/// The policy is today's: the explanation shows why the text scores as it does, not the thresholds of the day.
/// One task per message: a redelivered or backfilled message, or one already closed (decided in Chat, withdrawn), adds none;
/// a message edited while its task is open (flagged or held again) updates the task's text and verdict.
/// </summary>
sealed class TaskIntake(IModerator moderator, IOptions<AnnotationOptions> options, ILogger<TaskIntake> logger)
{
    public async Task<bool> AddAsync(NpgsqlConnection connection, NpgsqlTransaction? tx, MessageForReview message, CancellationToken ct) =>
        await AddAsync(connection, tx, message, ContentSources.ChatMessage, ct);

    /// <summary>
    /// A task for content of <paramref name="source"/> (a document chunk comes as a <see cref="MessageForReview"/> too: the chunk
    /// id as the message, its document as the room, its owner as the author).
    /// </summary>
    public async Task<bool> AddAsync(NpgsqlConnection connection, NpgsqlTransaction? tx, MessageForReview message, string source, CancellationToken ct)
    {
        var (verdict, explainedWith) = await ExplainAsync(message, ct);
        var explained = verdict?.Categories.Where(c => c.Action != ModerationAction.Approve || c.Score >= 0.5f)
            .Select(c => new ExplainedCategory(c.Category, c.Score, c.Action.Name(), c.Explanation, c.DrivenBy)).ToList() ?? [];
        // What it was held or flagged for: the verdict's non-approved categories, else (no verdict, or approved and flagged by a word) the scores from 0.5.
        var flagged = explained.Where(e => e.Action != "approve").Select(e => (Category: e.Category, Score: e.Score)).ToList();
        if (flagged.Count == 0) flagged = [.. message.Scores.Where(s => s.Value >= 0.5f).Select(s => (Category: s.Key, Score: s.Value))];
        var severe = flagged.Any(f => AnnotationOptions.IsSevere(f.Category, options.Value.SeverePatterns));
        // The queue's order: severe first, then the highest score it was flagged for.
        var severity = (severe ? 1f : 0f) + (flagged.Count > 0 ? flagged.Max(f => f.Score) : message.Scores.Values.DefaultIfEmpty(0).Max());
        var inserted = await connection.ExecuteAsync(new CommandDefinition(InsertSql, new
        {
            Id = Guid.CreateVersion7(), ProjectId = ProjectAccess.ModerationId, Source = source, ContentId = message.MessageId,
            message.Kind, message.Text, message.Language, Scores = JsonSerializer.Serialize(message.Scores),
            Action = message.Kind == "held" ? "review" : "approve",
            Explanation = JsonSerializer.Serialize(explained, Json), ExplainedWith = explainedWith, Matches = message.Matches.ToArray(),
            Severe = severe, Severity = severity, CreatedAt = message.At.UtcDateTime,
        }, tx, cancellationToken: ct));
        return inserted == 1;
    }

    /// <summary>
    /// A task that can never be worked on: the message was decided or withdrawn before its held or flagged event was handled.
    /// Its later event then finds the task and adds none.
    /// </summary>
    public static Task CloseUnseenAsync(NpgsqlConnection connection, NpgsqlTransaction tx, Guid messageId, string reason, CancellationToken ct) =>
        connection.ExecuteAsync(new CommandDefinition(TombstoneSql, new
        {
            Id = Guid.CreateVersion7(), ProjectId = ProjectAccess.ModerationId, Source = ContentSources.ChatMessage, ContentId = messageId, Reason = reason,
        }, tx, cancellationToken: ct));

    async Task<(ModerationVerdict? Verdict, Guid? Version)> ExplainAsync(MessageForReview message, CancellationToken ct)
    {
        try
        {
            try
            {
                var stored = await moderator.ModerateAsync([message.Text], message.ModelVersionId, ct);
                return (stored[0], message.ModelVersionId);
            }
            catch (UnknownModelVersionException)
            {
                var current = await moderator.ModerateAsync([message.Text], null, ct);
                return (current[0], current[0].Model.Id);
            }
        }
        catch (Exception e) when (e is NoProductionModelException or TextTooLargeException or UnknownModelVersionException)
        {
            // The task is still made: a reviewer decides on the text and its stored scores.
            logger.LogWarning("No explanation for message {MessageId}: {Reason}", message.MessageId, e.Message);
            return (null, null);
        }
    }

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static MessageForReview FromHeld(MessageHeld e) =>
        new(e.MessageId, e.RoomId, e.AuthorId, "held", e.Text, e.Language, e.Scores, [], e.ModelVersionId, e.PolicyVersion, e.HeldAt);

    public static MessageForReview FromChunk(BirbalAI.Contracts.Documents.ChunkForReview c) =>
        new(c.ChunkId, c.DocumentId, c.OwnerId, c.Kind, c.Text, c.Language, c.Scores, c.Matches, c.ModelVersionId, c.PolicyVersion, c.At);

    public static MessageForReview FromFlagged(MessageFlagged e) =>
        new(e.MessageId, e.RoomId, e.AuthorId, "flagged", e.Text, e.Language, e.Scores, e.Matches, e.ModelVersionId, e.PolicyVersion, e.FlaggedAt);

    const string InsertSql = """
        insert into annotation.tasks (id, project_id, source, content_id, kind, text, language, scores, action, explanation, explained_with, matches, severe, severity, created_at)
        values (@Id, @ProjectId, @Source, @ContentId, @Kind, @Text, @Language, @Scores::jsonb, @Action, @Explanation::jsonb, @ExplainedWith, @Matches, @Severe, @Severity, @CreatedAt)
        on conflict (project_id, source, content_id) where content_id is not null do update
            set kind = excluded.kind, text = excluded.text, language = excluded.language, scores = excluded.scores, action = excluded.action,
                explanation = excluded.explanation, explained_with = excluded.explained_with, matches = excluded.matches, severe = excluded.severe, severity = excluded.severity
            -- An edited message flagged or held again: the open task shows what it says now (and keeps its place in the queue).
            where annotation.tasks.status = 'open' and annotation.tasks.text <> excluded.text
        """;

    const string TombstoneSql = """
        insert into annotation.tasks (id, project_id, source, content_id, kind, text, language, status, closed_reason, decided_at)
        values (@Id, @ProjectId, @Source, @ContentId, 'held', '', '', 'closed', @Reason, now())
        on conflict (project_id, source, content_id) where content_id is not null do nothing
        """;
}
