namespace BirbalAI.Contracts.Chat;

/// <summary>
/// A message waiting for review as the review workspace needs it: <see cref="Kind"/> "held" (only its author sees it) or
/// "flagged" (a "flag" watched word matched; it stays visible), with what its verdict said when it was stored.
/// </summary>
public sealed record MessageForReview(
    Guid MessageId, Guid RoomId, Guid AuthorId, string Kind, string Text, string Language,
    IReadOnlyDictionary<string, float> Scores, IReadOnlyList<string> Matches, Guid ModelVersionId, int PolicyVersion, DateTimeOffset At);

/// <summary>A message of the room as its members saw it (the text as displayed: censored words stay censored).</summary>
public sealed record ContextMessage(Guid MessageId, string AuthorName, string Text, DateTimeOffset PostedAt);

/// <summary>Where a message was written: its room and the approved messages just before it, oldest first.</summary>
public sealed record RoomContext(Guid MessageId, Guid RoomId, string RoomName, string Status, IReadOnlyList<ContextMessage> Before);

/// <summary>
/// What Chat tells the review workspace that its events do not carry (Chat owns the messages; nobody reads its tables).
/// Callers are trusted modules: Annotation shows the answers only to Annotators and Admins.
/// </summary>
public interface IChatReviewSource
{
    /// <summary>
    /// Messages still waiting for a decision (held, or flagged and not decided), posted after <paramref name="since"/>, oldest
    /// first, at most <paramref name="limit"/>; <paramref name="after"/> (a message id) pages on from the previous answer.
    /// </summary>
    Task<IReadOnlyList<MessageForReview>> WaitingSinceAsync(DateTimeOffset since, Guid? after, int limit, CancellationToken ct);

    /// <summary>The message's room and the <paramref name="before"/> approved messages before it; null for no such message.</summary>
    Task<RoomContext?> ContextAsync(Guid messageId, int before, CancellationToken ct);
}
