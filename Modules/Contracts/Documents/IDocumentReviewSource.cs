namespace BirbalAI.Contracts.Documents;

/// <summary>
/// A chunk waiting for review as the review workspace needs it: <see cref="Kind"/> "held" or "flagged", its text (reviewers
/// need it), and what its verdict said when it was stored.
/// </summary>
public sealed record ChunkForReview(
    Guid ChunkId, Guid DocumentId, Guid OwnerId, string Kind, string Text, string Language,
    IReadOnlyDictionary<string, float> Scores, IReadOnlyList<string> Matches, Guid ModelVersionId, int PolicyVersion, DateTimeOffset At);

/// <summary>Where a chunk sits: its document's title and the chunks just before it that anyone may see (approved), oldest first.</summary>
public sealed record DocumentContext(Guid ChunkId, Guid DocumentId, string Title, string Status, IReadOnlyList<string> Before);

/// <summary>
/// What Documents tells the review workspace that its events (ids only) do not carry. Callers are trusted modules:
/// Annotation shows the answers only to Annotators and Admins.
/// </summary>
public interface IDocumentReviewSource
{
    /// <summary>The chunk as it waits for review; null when there is no such chunk or it waits no more.</summary>
    Task<ChunkForReview?> ChunkAsync(Guid chunkId, CancellationToken ct);

    /// <summary>The chunk's document and the <paramref name="before"/> approved chunks before it; null for no such chunk.</summary>
    Task<DocumentContext?> ContextAsync(Guid chunkId, int before, CancellationToken ct);
}
