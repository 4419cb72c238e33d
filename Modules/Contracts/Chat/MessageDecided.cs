namespace BirbalAI.Contracts.Chat;

/// <summary>
/// A room moderator or an Admin decided on a held or flagged message in Chat itself (not through the review workspace):
/// <see cref="Decision"/> is "release" or "remove". The Annotation module closes the message's task as decided in Chat by
/// <see cref="DecidedByName"/>.
/// </summary>
[IntegrationEvent("chat.message-decided.v1")]
public sealed record MessageDecided(Guid MessageId, Guid RoomId, string Decision, Guid DecidedBy, string DecidedByName, DateTimeOffset DecidedAt);
