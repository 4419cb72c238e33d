namespace BirbalAI.Contracts.Ml;

/// <summary>The default taxonomy: OpenAI's moderation categories, so /v1/moderations is a drop-in replacement.</summary>
public static class ModerationCategories
{
    public static readonly IReadOnlyList<string> Default =
    [
        "harassment", "harassment/threatening", "hate", "hate/threatening", "illicit", "illicit/violent",
        "self-harm", "self-harm/intent", "self-harm/instructions", "sexual", "sexual/minors", "violence", "violence/graphic",
    ];
}
