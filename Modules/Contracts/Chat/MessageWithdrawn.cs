namespace BirbalAI.Contracts.Chat;

/// <summary>The author deleted a held or flagged message before anyone decided on it: there is nothing left to review.</summary>
[IntegrationEvent("chat.message-withdrawn.v1")]
public sealed record MessageWithdrawn(Guid MessageId, Guid RoomId, DateTimeOffset WithdrawnAt);
