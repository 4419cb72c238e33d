namespace BirbalAI.Contracts.Documents;

/// <summary>
/// A stored document chunk as re-scoring needs it: its text, the language and verdict it was stored with (status, action,
/// scores, model and policy versions), and when it was written (<see cref="WrittenAt"/>, its document's upload).
/// </summary>
public sealed record StoredChunk(
    Guid ChunkId, Guid DocumentId, string Text, string Language, string Status, string Action, IReadOnlyDictionary<string, float> Scores,
    Guid ModelId, int ModelVersion, int PolicyVersion, DateTimeOffset WrittenAt);

/// <summary>Documents' stored chunks for re-scoring (Ml). Callers are trusted modules: the text never leaves the server.</summary>
public interface IDocumentContentSource
{
    /// <summary>
    /// Chunks that still stand (approved, held or rejected; not removed) in id order after <paramref name="after"/> (null: from the
    /// start), at most <paramref name="limit"/>; the id is the cursor. With <paramref name="partitions"/> &gt; 1, only the chunks of
    /// <paramref name="partition"/> (0-based; by a hash of the id). With <paramref name="since"/>, only the chunks of documents
    /// uploaded at or after it.
    /// </summary>
    Task<IReadOnlyList<StoredChunk>> ChunksAfterAsync(Guid? after, int limit, int partition, int partitions, DateTimeOffset? since, CancellationToken ct);

    /// <summary>How many chunks stand now (what a run over all of them will read); with <paramref name="since"/>, of documents uploaded since.</summary>
    Task<long> CountAsync(DateTimeOffset? since, CancellationToken ct);
}
