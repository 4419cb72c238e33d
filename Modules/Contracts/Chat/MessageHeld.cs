namespace BirbalAI.Contracts.Chat;

/// <summary>
/// A chat message the policy held for review: only its author sees it until a reviewer releases or removes it.
/// The Annotation module turns it into a review task.
/// </summary>
[IntegrationEvent("chat.message-held.v1")]
public sealed record MessageHeld(
    Guid MessageId, Guid RoomId, Guid AuthorId, string Text, string Language,
    IReadOnlyDictionary<string, float> Scores, Guid ModelVersionId, int PolicyVersion, DateTimeOffset HeldAt);
