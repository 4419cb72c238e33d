namespace BirbalAI.Contracts.Chat;

/// <summary>
/// A chat message a "flag" watched word matched: it was approved and stays visible to the room, and goes to review
/// (as <see cref="MessageHeld"/> does for held ones). <see cref="Text"/> is what its author wrote; <see cref="Matches"/>
/// the watched words' explanations ("watched word: …").
/// </summary>
[IntegrationEvent("chat.message-flagged.v1")]
public sealed record MessageFlagged(
    Guid MessageId, Guid RoomId, Guid AuthorId, string Text, string Language,
    IReadOnlyDictionary<string, float> Scores, IReadOnlyList<string> Matches, Guid ModelVersionId, int PolicyVersion, DateTimeOffset FlaggedAt);
