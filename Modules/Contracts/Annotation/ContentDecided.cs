namespace BirbalAI.Contracts.Annotation;

/// <summary>Where content comes from: the owner that applies a decision on it.</summary>
public static class ContentSources
{
    /// <summary>A chat message (content id = the message id).</summary>
    public const string ChatMessage = "chat.message";

    /// <summary>A chunk of an uploaded document (content id = the chunk id).</summary>
    public const string DocumentChunk = "documents.chunk";

    /// <summary>
    /// An item imported into a labelling project: nobody owns it, and no decision goes back; in <see cref="LabelAccepted"/>
    /// its content id is a hash of its text (the same text imported again is the same content).
    /// </summary>
    public const string Import = "import";
}

/// <summary>
/// A reviewer in the review workspace decided on content another module owns: <see cref="Decision"/> "release" or "remove",
/// with the categories the reviewer confirmed. The owner (<see cref="Source"/>) applies it through its own decision code,
/// with the reviewer as the decider.
/// </summary>
[IntegrationEvent("annotation.content-decided.v1")]
public sealed record ContentDecided(
    string Source, Guid ContentId, string Decision, IReadOnlyList<string> Categories, Guid DecidedBy, string DecidedByName, DateTimeOffset DecidedAt)
{
    public const string Release = "release", Remove = "remove";
}
