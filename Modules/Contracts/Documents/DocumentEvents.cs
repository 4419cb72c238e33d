namespace BirbalAI.Contracts.Documents;

/// <summary>
/// A document was uploaded and committed (its original and extracted text are in the document store): the worker chunks
/// and moderates it. Documents publishes and consumes it itself, through the outbox and RabbitMQ, so an upload survives a
/// crash between commit and processing. Ids only: the text stays in the store.
/// </summary>
[IntegrationEvent("documents.document-uploaded.v1")]
public sealed record DocumentUploaded(Guid DocumentId, Guid OwnerId, DateTimeOffset UploadedAt);

/// <summary>A chunk of a document the policy held: only its owner, reviewers and Admins see it until a reviewer decides. Ids only.</summary>
[IntegrationEvent("documents.chunk-held.v1")]
public sealed record ChunkHeld(Guid ChunkId, Guid DocumentId, Guid OwnerId, DateTimeOffset HeldAt);

/// <summary>A chunk a "flag" watched word matched: approved and visible, and sent to review. Ids only.</summary>
[IntegrationEvent("documents.chunk-flagged.v1")]
public sealed record ChunkFlagged(Guid ChunkId, Guid DocumentId, Guid OwnerId, DateTimeOffset FlaggedAt);
