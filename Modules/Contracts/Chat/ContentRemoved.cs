namespace BirbalAI.Contracts.Chat;

/// <summary>
/// A message's author deleted it: Ml drops its text from every later dataset snapshot (snapshots already taken are immutable).
/// </summary>
[IntegrationEvent("chat.content-removed.v1")]
public sealed record ContentRemoved(Guid MessageId, Guid AuthorId, DateTimeOffset RemovedAt);
