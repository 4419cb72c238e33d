namespace BirbalAI.Contracts.Annotation;

/// <summary>
/// A label people agreed on, with everything Ml needs to learn from it without reading another module: the text, its
/// language, the categories (empty: none applies), where it came from, who accepted it and when.
/// </summary>
[IntegrationEvent("annotation.label-accepted.v1")]
public sealed record LabelAccepted(
    string Text, string Language, IReadOnlyList<string> Categories, string Source, Guid? ContentId, Guid ProjectId, Guid TaskId,
    Guid AcceptedBy, DateTimeOffset AcceptedAt);
