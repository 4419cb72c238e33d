using System.Text.Json;
using BirbalAI.Contracts.Documents;
using BirbalAI.Contracts.Ml;
using BirbalAI.Documents.Uploads;
using BirbalAI.Platform.Configuration;
using BirbalAI.Platform.Documents;
using BirbalAI.Platform.Messaging;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;

namespace BirbalAI.Documents.Processing;

/// <summary>
/// The worker's half of an upload (<see cref="DocumentUploaded"/>, from the outbox through RabbitMQ): the extracted text is
/// cut into chunks, moderated in batches, and every chunk stored with its verdict; held chunks raise <see cref="ChunkHeld"/>,
/// flagged ones <see cref="ChunkFlagged"/>; the document's status follows from its chunks. All of it in the consumer's
/// transaction with its inbox row, and only while the document is still processing: a redelivery finds it handled (inbox)
/// or no longer processing, so each chunk gets one verdict, one event, and the document one status change.
/// A text the moderator cannot score (too large) fails the document with the reason; no production model is a failure to
/// retry (back-off, then the dead-letter queue, whence an Admin requeues it).
/// </summary>
sealed class DocumentUploadedHandler(IDocumentStore store, ContentEncryption encryption, IModerator moderator, IOptions<DocumentsOptions> options, LiveStatus live)
    : IIntegrationEventHandler<DocumentUploaded>
{
    public async Task HandleAsync(DocumentUploaded evt, MessageContext context, CancellationToken ct)
    {
        var (connection, tx) = (context.Connection, context.Transaction);
        var processing = await connection.ExecuteScalarAsync<bool>(new CommandDefinition(LockSql, new { evt.DocumentId }, tx, cancellationToken: ct));
        if (!processing) return;
        var body = await store.GetAsync<DocumentBody>(UploadDocument.Bodies, evt.DocumentId, ct)
            ?? throw new InvalidOperationException($"Document {evt.DocumentId} has no body in the document store.");
        var chunks = Chunker.Split(encryption.OpenText(body.Text), options.Value.MaxChunkChars);

        var verdicts = new List<ModerationVerdict>(chunks.Count);
        try
        {
            foreach (var batch in chunks.Chunk(options.Value.ModerationBatchSize))
                verdicts.AddRange(await moderator.ModerateAsync([.. batch.Select(c => c.Text)], null, ct));
        }
        catch (TextTooLargeException e)
        {
            var reason = $"A part of it cannot be checked: it {e.Detail}.";
            await connection.ExecuteAsync(new CommandDefinition(FailSql, new { evt.DocumentId, Reason = reason }, tx, cancellationToken: ct));
            live.AfterCommit(context, evt.OwnerId, new StatusChanged(evt.DocumentId, "failed", reason, null));
            return;
        }

        for (var i = 0; i < chunks.Count; i++)
        {
            var (chunk, verdict) = (chunks[i], verdicts[i]);
            var id = Guid.CreateVersion7();
            await connection.ExecuteAsync(new CommandDefinition(InsertChunkSql, new
            {
                id, evt.DocumentId, chunk.Ordinal, chunk.Start, chunk.Length, chunk.Text, Status = verdict.Action.ToContentStatus(), Action = verdict.Action.Name(),
                Flagged = verdict.Categories.Where(c => c.Action != ModerationAction.Approve).Select(c => c.Category)
                    .Concat(verdict.Matches.Where(m => m.Action is "block" or "require-approval").Select(m => m.Explanation)).Distinct().ToArray(),
                Scores = JsonSerializer.Serialize(verdict.Scores), verdict.Language, ModelId = verdict.Model.Id, ModelVersion = verdict.Model.Number, verdict.PolicyVersion,
                verdict.FlaggedForReview, Config = SearchConfigs.For(verdict.Language),
            }, tx, cancellationToken: ct));
            if (verdict.Action == ModerationAction.Review) await Outbox.AddAsync(connection, tx, new ChunkHeld(id, evt.DocumentId, evt.OwnerId, DateTimeOffset.UtcNow), ct);
            else if (verdict.Action == ModerationAction.Approve && verdict.FlaggedForReview)
                await Outbox.AddAsync(connection, tx, new ChunkFlagged(id, evt.DocumentId, evt.OwnerId, DateTimeOffset.UtcNow), ct);
        }
        var language = verdicts.GroupBy(v => v.Language).OrderByDescending(g => g.Count()).ThenBy(g => g.Key).Select(g => g.Key).FirstOrDefault();
        await connection.ExecuteAsync(new CommandDefinition(LanguageSql, new { evt.DocumentId, language }, tx, cancellationToken: ct));
        if (await DocumentStatus.UpdateAsync(connection, tx, evt.DocumentId, ct) is { } status)
            live.AfterCommit(context, evt.OwnerId, new StatusChanged(evt.DocumentId, status, null, language));
    }

    const string LockSql = "select exists (select 1 from documents.documents where id = @DocumentId and status = 'processing' for update)";

    const string FailSql = "update documents.documents set status = 'failed', failure_reason = @Reason, processed_at = now() where id = @DocumentId and status = 'processing'";

    const string LanguageSql = "update documents.documents set language = @Language, processed_at = now() where id = @DocumentId";

    const string InsertChunkSql = """
        insert into documents.chunks (id, document_id, ordinal, start_offset, length, text, status, action, flagged, scores, language, model_id, model_version, policy_version,
            flagged_for_review, search_config)
        values (@Id, @DocumentId, @Ordinal, @Start, @Length, @Text, @Status, @Action, @Flagged, @Scores::jsonb, @Language, @ModelId, @ModelVersion, @PolicyVersion,
            @FlaggedForReview, @Config::regconfig)
        """;
}

/// <summary>A document's status from its chunks: any held → held (all) or partially-held; else any rejected or removed → rejected (all) or partially-rejected; else approved.</summary>
static class DocumentStatus
{
    /// <summary>Sets it when it changed (never on a failed document); returns the new status, or null when it stayed.</summary>
    public static Task<string?> UpdateAsync(NpgsqlConnection connection, NpgsqlTransaction tx, Guid documentId, CancellationToken ct) =>
        connection.ExecuteScalarAsync<string?>(new CommandDefinition(Sql, new { documentId }, tx, cancellationToken: ct));

    const string Sql = """
        update documents.documents d set status = s.status
        from (select case
                when count(*) filter (where c.status = 'held') > 0 and count(*) filter (where c.status = 'held') = count(*) then 'held'
                when count(*) filter (where c.status = 'held') > 0 then 'partially-held'
                when count(*) > 0 and count(*) filter (where c.status in ('rejected', 'removed')) = count(*) then 'rejected'
                when count(*) filter (where c.status in ('rejected', 'removed')) > 0 then 'partially-rejected'
                else 'approved' end as status
              from documents.chunks c where c.document_id = @DocumentId) s
        where d.id = @DocumentId and d.status <> 'failed' and d.status <> s.status
        returning d.status
        """;
}

/// <summary>The PostgreSQL text-search configuration for a detected language (stemming and stop words); "simple" for the rest.</summary>
static class SearchConfigs
{
    static readonly Dictionary<string, string> ByLanguage = new(StringComparer.OrdinalIgnoreCase)
    {
        ["en"] = "english", ["de"] = "german", ["fr"] = "french", ["es"] = "spanish", ["it"] = "italian", ["pt"] = "portuguese", ["nl"] = "dutch",
        ["ru"] = "russian", ["sv"] = "swedish", ["da"] = "danish", ["nb"] = "norwegian", ["no"] = "norwegian", ["fi"] = "finnish", ["hu"] = "hungarian",
        ["tr"] = "turkish", ["ro"] = "romanian", ["el"] = "greek", ["id"] = "indonesian", ["lt"] = "lithuanian",
    };

    public static string For(string? language) => language is not null && ByLanguage.TryGetValue(language.Split('-')[0], out var config) ? config : "simple";
}
