using System.ComponentModel.DataAnnotations;
using System.Text.RegularExpressions;
using BirbalAI.Contracts.Ml;

namespace BirbalAI.Ml.WatchedWords;

/// <summary>
/// An admin's own rule: a word or phrase (<see cref="Kinds.Word"/>) or a regular expression (<see cref="Kinds.Regex"/>),
/// what happens when it matches, and optionally the only language it applies to. <see cref="Id"/> stays the same
/// across edits; the policy version records which edit was in force.
/// </summary>
sealed record WatchedWord(Guid Id, string Pattern, string Kind, string Action, string? Replacement, string? Category, string? Language, bool WholeWord = true)
{
    public static class Kinds
    {
        public const string Word = "word", Regex = "regex";
        public static readonly IReadOnlyList<string> All = [Word, Regex];
    }

    public static class Actions
    {
        public const string Block = "block", RequireApproval = "require-approval", Flag = "flag", Censor = "censor", Replace = "replace", AddCategory = "add-category";
        public static readonly IReadOnlyList<string> All = [Block, RequireApproval, Flag, Censor, Replace, AddCategory];

        /// <summary>What an action does to the verdict's overall action on its own (censor, replace and flag approve).</summary>
        public static ModerationAction Verdict(string action) => action switch
        {
            Block => ModerationAction.Reject,
            RequireApproval => ModerationAction.Review,
            _ => ModerationAction.Approve,
        };
    }

    /// <summary>Letters, then optionally a script or region: "en", "hi-Latn", "pt-BR".</summary>
    static readonly Regex LanguageCode = new("^[a-z]{2,3}(-[A-Za-z]{2,8})?$", RegexOptions.CultureInvariant);

    /// <summary>What is wrong with this entry on its own; empty when nothing. <paramref name="categories"/> are those "add-category" may name.</summary>
    public IReadOnlyList<string> Validate(WatchedWordLimits limits, IReadOnlyCollection<string> categories)
    {
        var errors = new List<string>();
        if (!Kinds.All.Contains(Kind)) errors.Add($"kind: '{Kind}' is not one of {string.Join(", ", Kinds.All)}");
        if (!Actions.All.Contains(Action)) errors.Add($"action: '{Action}' is not one of {string.Join(", ", Actions.All)}");
        if (string.IsNullOrWhiteSpace(Pattern)) errors.Add("pattern: required");
        else if (Kind == Kinds.Word)
        {
            if (Pattern.Length > limits.MaxWordLength)
                errors.Add($"pattern: a word or phrase has at most {limits.MaxWordLength} characters (Ml:WatchedWords:MaxWordLength), this one {Pattern.Length}");
            else if (WatchedText.Fold(Pattern).Tokens.Count == 0) errors.Add("pattern: has no letters or digits to match");
        }
        else if (Kind == Kinds.Regex)
        {
            if (Pattern.Length > limits.MaxPatternLength)
                errors.Add($"pattern: a regular expression has at most {limits.MaxPatternLength} characters (Ml:WatchedWords:MaxPatternLength), this one {Pattern.Length}");
            else if (CompileError(Pattern, limits) is { } error) errors.Add($"pattern: {error}");
        }
        if (Action == Actions.Replace)
        {
            if (string.IsNullOrEmpty(Replacement)) errors.Add("replacement: required for \"replace\"");
            else if (Replacement.Length > limits.MaxReplacementLength)
                errors.Add($"replacement: at most {limits.MaxReplacementLength} characters (Ml:WatchedWords:MaxReplacementLength)");
        }
        else if (!string.IsNullOrEmpty(Replacement)) errors.Add("replacement: only for \"replace\"");
        if (Action == Actions.AddCategory)
        {
            if (string.IsNullOrEmpty(Category)) errors.Add("category: required for \"add-category\"");
            else if (!categories.Contains(Category)) errors.Add($"category: '{Category}' is not a category (known: {string.Join(", ", categories)})");
        }
        else if (!string.IsNullOrEmpty(Category)) errors.Add("category: only for \"add-category\"");
        if (Language is not null && !LanguageCode.IsMatch(Language)) errors.Add($"language: '{Language}' is not a language code such as en, de or hi-Latn");
        return errors;
    }

    /// <summary>Why <paramref name="pattern"/> cannot run as a watched expression, or null when it can.</summary>
    static string? CompileError(string pattern, WatchedWordLimits limits)
    {
        try
        {
            _ = new Regex(pattern, WatchedWordMatcher.RegexOptionsUsed, TimeSpan.FromMilliseconds(limits.RegexTimeoutMs));
            return null;
        }
        catch (NotSupportedException e)
        {
            return $"this expression cannot run with RegexOptions.NonBacktracking (no backreferences, lookarounds, atomic groups or conditionals): {e.Message}";
        }
        catch (ArgumentException e)
        {
            return $"not a valid regular expression: {e.Message}";
        }
    }

    /// <summary>What is wrong with <paramref name="entries"/> as the whole list (each entry, then count and duplicates), labelled by <paramref name="label"/>.</summary>
    public static IReadOnlyList<string> ValidateList(IReadOnlyList<WatchedWord> entries, WatchedWordLimits limits, IReadOnlyCollection<string> categories,
        Func<int, string> label)
    {
        var errors = new List<string>();
        for (var i = 0; i < entries.Count; i++)
            errors.AddRange(entries[i].Validate(limits, categories).Select(e => $"{label(i)}: {e}"));
        if (entries.Count > limits.MaxEntries)
            errors.Add($"at most {limits.MaxEntries} watched words (Ml:WatchedWords:MaxEntries), not {entries.Count}");
        var regexes = entries.Count(e => e.Kind == Kinds.Regex);
        if (regexes > limits.MaxRegexes)
            errors.Add($"at most {limits.MaxRegexes} regular expressions (Ml:WatchedWords:MaxRegexes), not {regexes}");
        var seen = new Dictionary<(string, string, string?), int>();
        for (var i = 0; i < entries.Count; i++)
        {
            var key = (entries[i].Kind, entries[i].Kind == Kinds.Word ? string.Join(' ', WatchedText.Fold(entries[i].Pattern).Tokens.Select(t => t.Text)) : entries[i].Pattern, entries[i].Language);
            if (seen.TryGetValue(key, out var first)) errors.Add($"{label(i)}: the same {entries[i].Kind} as {label(first)} ('{entries[i].Pattern}')");
            else seen[key] = i;
        }
        return errors;
    }
}

/// <summary>How many watched words there may be and how long (section "Ml:WatchedWords"); every limit is refused on save, never cut.</summary>
sealed class WatchedWordLimits
{
    public const string Section = "Ml:WatchedWords";

    [Range(0, 100_000)] public int MaxEntries { get; set; } = 5_000;

    [Range(0, 10_000)] public int MaxRegexes { get; set; } = 200;

    /// <summary>Characters of a word or phrase.</summary>
    [Range(1, 1_000)] public int MaxWordLength { get; set; } = 100;

    /// <summary>Characters of a regular expression.</summary>
    [Range(1, 10_000)] public int MaxPatternLength { get; set; } = 300;

    [Range(1, 10_000)] public int MaxReplacementLength { get; set; } = 200;

    /// <summary>
    /// How long one expression may run on one text. NonBacktracking already runs in time linear in the text; a
    /// timeout that still fires holds the text for review (the rule fails closed).
    /// </summary>
    [Range(1, 10_000)] public int RegexTimeoutMs { get; set; } = 50;
}
