namespace BirbalAI.Contracts.Ml;

/// <summary>What the policy does with a score: let it through, hold it for a person, or refuse it. Ordered by severity.</summary>
public enum ModerationAction { Approve = 0, Review = 1, Reject = 2 }

public static class ModerationActions
{
    /// <summary>The lower-case name used in APIs and storage: "approve", "review", "reject".</summary>
    public static string Name(this ModerationAction action) => action switch
    {
        ModerationAction.Approve => "approve",
        ModerationAction.Review => "review",
        ModerationAction.Reject => "reject",
        _ => throw new ArgumentOutOfRangeException(nameof(action)),
    };

    /// <summary>The status of content given this action: "approved", "held" or "rejected" (never an int).</summary>
    public static string ToContentStatus(this ModerationAction action) => action switch
    {
        ModerationAction.Approve => "approved",
        ModerationAction.Review => "held",
        ModerationAction.Reject => "rejected",
        _ => throw new ArgumentOutOfRangeException(nameof(action)),
    };
}

/// <summary>An n-gram of the text and how much it pushed a category's score up (its share of the logit).</summary>
public sealed record Contribution(string Ngram, float Weight);

/// <summary>What one component of the model (an ensemble's "ngram" model or "encoder") scored for a category.</summary>
public sealed record ComponentScore(string Component, float Score);

/// <summary>
/// One category's score, the policy's thresholds for it, the resulting action, and (when not approved) why: the
/// n-gram contributions, each component's score, and what drove the score ("ngram", "encoder", "ngram-rest" when the
/// n-gram model alone scored text beyond the encoder's windows, or "watched-word" when an admin's word added the category).
/// </summary>
public sealed record CategoryVerdict(
    string Category, float Score, float ReviewThreshold, float RejectThreshold, ModerationAction Action,
    IReadOnlyList<Contribution> Explanation, IReadOnlyList<ComponentScore>? Components = null, string? DrivenBy = null);

/// <summary>The model version that scored a text.</summary>
public sealed record ModelRef(Guid Id, int Number)
{
    /// <summary>How APIs name it: "birbal-v3".</summary>
    public string Name => $"birbal-v{Number}";
}

/// <summary>
/// A watched word (an admin's own rule) that matched: the entry, its word or pattern, its action ("block",
/// "require-approval", "flag", "censor", "replace", "add-category"), the category it adds (for "add-category"), and
/// where it matched in the text as given (<see cref="Start"/>, <see cref="Length"/> in UTF-16 code units; <see cref="Matched"/> is that span).
/// </summary>
public sealed record WatchedWordMatch(Guid EntryId, string Pattern, string Action, string? Category, string Matched, int Start, int Length)
{
    /// <summary>How explanations name it: "watched word: kill".</summary>
    public string Explanation => $"watched word: {Pattern}";
}

/// <summary>The moderation of one text: its language, every category, the overall action (the most severe) and the versions used.</summary>
public sealed record ModerationVerdict(
    string Language, IReadOnlyList<CategoryVerdict> Categories, ModerationAction Action, ModelRef Model, int PolicyVersion)
{
    /// <summary>Not a plain approval: held, rejected, or approved but flagged for review.</summary>
    public bool Flagged => Action != ModerationAction.Approve || FlaggedForReview;

    /// <summary>The watched words that matched, in the order of the text; empty when none.</summary>
    public IReadOnlyList<WatchedWordMatch> Matches { get; init; } = [];

    /// <summary>The text to show instead of the one given (censored or replaced words); null when it is shown unchanged.</summary>
    public string? DisplayText { get; init; }

    /// <summary>A "flag" watched word matched: the content is approved, and its owner sends it to review.</summary>
    public bool FlaggedForReview { get; init; }

    public IReadOnlyDictionary<string, float> Scores => Categories.ToDictionary(c => c.Category, c => c.Score);
}

/// <summary>
/// Moderation for every module: in-process, micro-batched, with the production model (or a named version)
/// and the current policy. Callers call it outside their database transactions.
/// </summary>
public interface IModerator
{
    Task<ModerationVerdict> ModerateAsync(string text, CancellationToken ct);

    /// <summary>Moderates <paramref name="texts"/> in one go; <paramref name="modelVersion"/> null means the production model.</summary>
    Task<IReadOnlyList<ModerationVerdict>> ModerateAsync(IReadOnlyList<string> texts, Guid? modelVersion, CancellationToken ct);
}

/// <summary>No production model is registered yet, so nothing can be moderated.</summary>
public sealed class NoProductionModelException() : Exception("No production model is registered yet.");

/// <summary>The model version asked for does not exist.</summary>
public sealed class UnknownModelVersionException(Guid version) : Exception($"No model version {version}.")
{
    public Guid Version { get; } = version;
}

/// <summary>
/// A text grows past what the moderator scores once normalised (characters or features, both configured): it is
/// refused as a whole, never scored in part. <see cref="Index"/> is its position among the texts of the call.
/// </summary>
public sealed class TextTooLargeException(int index, string detail) : Exception($"Input {index} {detail}")
{
    public int Index { get; } = index;

    /// <summary>What is too large, without the position: "has 72000 characters once normalised; the limit is …".</summary>
    public string Detail { get; } = detail;
}
