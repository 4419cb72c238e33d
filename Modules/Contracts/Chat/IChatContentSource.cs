namespace BirbalAI.Contracts.Chat;

/// <summary>
/// A stored chat message as re-scoring needs it: what its author wrote, the language and verdict it was stored with (status,
/// action, scores, model and policy versions), and when it was last written (<see cref="WrittenAt"/>: a revision of an older
/// text is not applied to an edited one).
/// </summary>
public sealed record StoredMessage(
    Guid MessageId, string Text, string Language, string Status, string Action, IReadOnlyDictionary<string, float> Scores,
    Guid ModelId, int ModelVersion, int PolicyVersion, DateTimeOffset WrittenAt);

/// <summary>Chat's stored messages for re-scoring (Ml). Callers are trusted modules: the text never leaves the server.</summary>
public interface IChatContentSource
{
    /// <summary>
    /// Messages that still stand (approved, held or rejected; not removed or deleted) in id order after <paramref name="after"/>
    /// (null: from the start), at most <paramref name="limit"/>. Ids are the cursor: a message keeps its id, so a reader that
    /// stores the last id it saw resumes exactly there. With <paramref name="partitions"/> &gt; 1, only the messages of
    /// <paramref name="partition"/> (0-based; by a hash of the id): readers of different partitions never see the same message.
    /// With <paramref name="since"/>, only those last written at or after it.
    /// </summary>
    Task<IReadOnlyList<StoredMessage>> MessagesAfterAsync(Guid? after, int limit, int partition, int partitions, DateTimeOffset? since, CancellationToken ct);

    /// <summary>How many messages stand now (what a run over all of them will read, give or take what is posted meanwhile); with <paramref name="since"/>, of those last written since.</summary>
    Task<long> CountAsync(DateTimeOffset? since, CancellationToken ct);
}
