using System.Text.Json;
using BirbalAI.Contracts.Annotation;
using BirbalAI.Contracts.Documents;
using BirbalAI.Contracts.Identity;
using BirbalAI.Documents.Processing;
using BirbalAI.Platform.Messaging;
using Dapper;
using Npgsql;

namespace BirbalAI.Documents.Review;

/// <summary>Documents' answers to the review workspace (<see cref="IDocumentReviewSource"/>): a waiting chunk's text and verdict, and its place in the document.</summary>
sealed class DocumentReviewSource(NpgsqlDataSource db) : IDocumentReviewSource
{
    public async Task<ChunkForReview?> ChunkAsync(Guid chunkId, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var row = await connection.QuerySingleOrDefaultAsync<Row?>(new CommandDefinition(ChunkSql, new { chunkId }, cancellationToken: ct));
        return row is null ? null : new ChunkForReview(row.Id, row.DocumentId, row.OwnerId, row.Status == "held" ? "held" : "flagged", row.Text, row.Language,
            JsonSerializer.Deserialize<Dictionary<string, float>>(row.Scores)!, [], row.ModelId, row.PolicyVersion, new DateTimeOffset(DateTime.SpecifyKind(row.CreatedAt, DateTimeKind.Utc)));
    }

    public async Task<DocumentContext?> ContextAsync(Guid chunkId, int before, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var head = await connection.QuerySingleOrDefaultAsync<(Guid DocumentId, string Title, string Status, int Ordinal)?>(new CommandDefinition(HeadSql, new { chunkId }, cancellationToken: ct));
        if (head is not { } h) return null;
        var texts = (await connection.QueryAsync<string>(new CommandDefinition(BeforeSql, new { h.DocumentId, h.Ordinal, before }, cancellationToken: ct))).Reverse().ToList();
        return new DocumentContext(chunkId, h.DocumentId, h.Title, h.Status, texts);
    }

    sealed class Row
    {
        public Guid Id { get; init; }
        public Guid DocumentId { get; init; }
        public Guid OwnerId { get; init; }
        public string Status { get; init; } = "";
        public string Text { get; init; } = "";
        public string Language { get; init; } = "";
        public string Scores { get; init; } = "{}";
        public Guid ModelId { get; init; }
        public int PolicyVersion { get; init; }
        public DateTime CreatedAt { get; init; }
    }

    // Waiting: held, or approved and flagged with no decision yet.
    const string ChunkSql = """
        select c.id, c.document_id, d.owner_id, c.status, c.text, c.language, c.scores::text as scores, c.model_id, c.policy_version, d.created_at
        from documents.chunks c join documents.documents d on d.id = c.document_id
        where c.id = @ChunkId and (c.status = 'held' or (c.status = 'approved' and c.flagged_for_review and c.decided_at is null))
        """;

    const string HeadSql = """
        select c.document_id, d.title, c.status, c.ordinal from documents.chunks c join documents.documents d on d.id = c.document_id where c.id = @ChunkId
        """;

    const string BeforeSql = """
        select text from documents.chunks where document_id = @DocumentId and ordinal < @Ordinal and status = 'approved' order by ordinal desc limit @Before
        """;
}

/// <summary>
/// A reviewer decided on a chunk in the review workspace: released (approved) or removed, once (the inbox), only while it still
/// waits; the document's status follows. Audited with the reviewer as the decider, via the review workspace.
/// </summary>
sealed class ContentDecidedHandler(IAuditLog audit, LiveStatus live) : IIntegrationEventHandler<ContentDecided>
{
    public async Task HandleAsync(ContentDecided evt, MessageContext context, CancellationToken ct)
    {
        if (evt.Source != ContentSources.DocumentChunk) return;
        var status = evt.Decision switch
        {
            ContentDecided.Release => "approved",
            ContentDecided.Remove => "removed",
            _ => throw new InvalidOperationException($"Unknown decision '{evt.Decision}' (release or remove)."),
        };
        var decided = await context.Connection.QuerySingleOrDefaultAsync<(Guid DocumentId, Guid OwnerId)?>(new CommandDefinition(DecideSql,
            new { Id = evt.ContentId, status, By = evt.DecidedBy }, context.Transaction, cancellationToken: ct));
        if (decided is not { } d) return;   // decided before, or no such chunk
        var (document, owner) = d;
        if (await DocumentStatus.UpdateAsync(context.Connection, context.Transaction, document, ct) is { } changed)
            live.AfterCommit(context, owner, new StatusChanged(document, changed, null, null));
        await audit.RecordAsync(new AuditEntry(status == "approved" ? "documents.chunk-released" : "documents.chunk-removed", evt.DecidedBy, $"chunk {evt.ContentId}",
            new Dictionary<string, string?> { ["document"] = document.ToString(), ["via"] = "review workspace", ["by"] = evt.DecidedByName, ["categories"] = string.Join(", ", evt.Categories) }),
            context.Transaction, ct);
    }

    const string DecideSql = """
        update documents.chunks c set status = @Status, decided_at = now(), decided_by = @By
        from documents.documents d
        where c.id = @Id and d.id = c.document_id and (c.status = 'held' or (c.status = 'approved' and c.flagged_for_review and c.decided_at is null))
        returning c.document_id, d.owner_id
        """;
}
