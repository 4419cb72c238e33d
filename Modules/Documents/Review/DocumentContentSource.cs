using System.Text.Json;
using BirbalAI.Contracts.Annotation;
using BirbalAI.Contracts.Documents;
using BirbalAI.Contracts.Ml;
using BirbalAI.Documents.Processing;
using BirbalAI.Platform.Messaging;
using Dapper;
using Npgsql;

namespace BirbalAI.Documents.Review;

/// <summary>Documents' stored chunks for re-scoring (<see cref="IDocumentContentSource"/>): paged by id, optionally one hash partition of them.</summary>
sealed class DocumentContentSource(NpgsqlDataSource db) : IDocumentContentSource
{
    public async Task<IReadOnlyList<StoredChunk>> ChunksAfterAsync(Guid? after, int limit, int partition, int partitions, DateTimeOffset? since, CancellationToken ct)
    {
        if (partitions < 1 || partition < 0 || partition >= partitions) throw new ArgumentOutOfRangeException(nameof(partition), $"partition {partition} of {partitions}");
        await using var connection = await db.OpenConnectionAsync(ct);
        var rows = await connection.QueryAsync<Row>(new CommandDefinition(Sql,
            new { after, Limit = Math.Clamp(limit, 1, 10_000), partition, partitions, Since = since?.UtcDateTime }, cancellationToken: ct));
        return [.. rows.Select(r => new StoredChunk(r.Id, r.DocumentId, r.Text, r.Language, r.Status, r.Action, JsonSerializer.Deserialize<Dictionary<string, float>>(r.Scores)!,
            r.ModelId, r.ModelVersion, r.PolicyVersion, new DateTimeOffset(DateTime.SpecifyKind(r.WrittenAt, DateTimeKind.Utc))))];
    }

    public async Task<long> CountAsync(DateTimeOffset? since, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return await connection.ExecuteScalarAsync<long>(new CommandDefinition("""
            select count(*) from documents.chunks c join documents.documents d on d.id = c.document_id
            where c.status in ('approved', 'held', 'rejected') and (@Since::timestamptz is null or d.created_at >= @Since)
            """, new { Since = since?.UtcDateTime }, cancellationToken: ct));
    }

    sealed record Row(Guid Id, Guid DocumentId, string Text, string Language, string Status, string Action, string Scores, Guid ModelId, int ModelVersion, int PolicyVersion,
        DateTime WrittenAt);

    // The partition is a hash of the id, stable for ever.
    const string Sql = """
        select c.id, c.document_id, c.text, c.language, c.status, c.action, c.scores::text as scores, c.model_id, c.model_version, c.policy_version, d.created_at as written_at
        from documents.chunks c join documents.documents d on d.id = c.document_id
        where c.status in ('approved', 'held', 'rejected') and (@After::uuid is null or c.id > @After)
          and (@Since::timestamptz is null or d.created_at >= @Since)
          and (@Partitions = 1 or mod(hashtext(c.id::text)::bigint + 2147483648, @Partitions) = @Partition)
        order by c.id limit @Limit
        """;
}

/// <summary>
/// Ml applied a re-scoring run: each chunk still standing records the new scores, action and versions. One that was approved,
/// and that no person decided on, is held when it now scores review or reject, raising <see cref="ChunkHeld"/> as a held chunk
/// does (so it reaches the review workspace); its document's status follows. Nothing is released, and a held or rejected chunk
/// stays so until a person decides. Once per event (the inbox); a redelivery would find the held ones held anyway.
/// </summary>
sealed class VerdictsRevisedHandler(LiveStatus live) : IIntegrationEventHandler<VerdictsRevised>
{
    public async Task HandleAsync(VerdictsRevised evt, MessageContext context, CancellationToken ct)
    {
        if (evt.Source != ContentSources.DocumentChunk) return;
        var documents = new Dictionary<Guid, Guid>();   // document → owner
        foreach (var v in evt.Verdicts)
        {
            var row = await context.Connection.QuerySingleOrDefaultAsync<Revised?>(new CommandDefinition(ReviseSql, new
            {
                Id = v.ContentId, v.Action, Flagged = v.Flagged.ToArray(), Scores = JsonSerializer.Serialize(v.Scores),
                ModelId = evt.ModelVersionId, evt.ModelVersion, v.PolicyVersion,
            }, context.Transaction, cancellationToken: ct));
            if (row is null) continue;
            documents[row.DocumentId] = row.OwnerId;
            if (row is { OldStatus: "approved", Status: "held" })
                await Outbox.AddAsync(context.Connection, context.Transaction, new ChunkHeld(row.Id, row.DocumentId, row.OwnerId, DateTimeOffset.UtcNow), ct);
        }
        foreach (var (document, owner) in documents)
            if (await DocumentStatus.UpdateAsync(context.Connection, context.Transaction, document, ct) is { } changed)
                live.AfterCommit(context, owner, new StatusChanged(document, changed, null, null));   // the owner's pages follow
    }

    sealed record Revised(Guid Id, Guid DocumentId, Guid OwnerId, string OldStatus, string Status);

    // Held only from approved and undecided (a person's release stands); every other status stays as it is.
    const string ReviseSql = """
        with old as (select c.id, c.status, d.owner_id from documents.chunks c join documents.documents d on d.id = c.document_id where c.id = @Id for update of c)
        update documents.chunks c
           set scores = @Scores::jsonb, action = @Action, flagged = @Flagged, model_id = @ModelId, model_version = @ModelVersion, policy_version = @PolicyVersion,
               status = case when c.status = 'approved' and c.decided_at is null and @Action in ('review', 'reject') then 'held' else c.status end
          from old
         where c.id = old.id and c.status in ('approved', 'held', 'rejected')
        returning c.id, c.document_id, old.owner_id, old.status as old_status, c.status
        """;
}
