using BirbalAI.Ml.WatchedWords;

namespace BirbalAI.Ml.Tests.WatchedWords;

public sealed class WatchedWordValidationTests
{
    static readonly WatchedWordLimits Limits = new() { MaxEntries = 3, MaxRegexes = 1, MaxWordLength = 10, MaxPatternLength = 20 };
    static readonly string[] Categories = ["hate", "violence"];

    static IReadOnlyList<string> Errors(WatchedWord entry) => entry.Validate(Limits, Categories);

    static WatchedWord Entry(string pattern, string kind = "word", string action = "block", string? replacement = null, string? category = null, string? language = null) =>
        new(Guid.NewGuid(), pattern, kind, action, replacement, category, language);

    [Fact]
    public void A_valid_entry_of_every_action_passes()
    {
        Assert.Empty(Errors(Entry("kill")));
        Assert.Empty(Errors(Entry("idiot", action: "censor")));
        Assert.Empty(Errors(Entry("darn", action: "replace", replacement: "gosh")));
        Assert.Empty(Errors(Entry("slur", action: "add-category", category: "hate")));
        Assert.Empty(Errors(Entry("scam", action: "flag", language: "hi-Latn")));
        Assert.Empty(Errors(Entry("sc[a4]m+", kind: "regex", action: "require-approval")));
    }

    [Fact]
    public void Patterns_NonBacktracking_cannot_run_are_refused_with_the_reason()
    {
        var backreference = Assert.Single(Errors(Entry(@"(a)\1", kind: "regex")));
        Assert.Contains("RegexOptions.NonBacktracking", backreference);
        Assert.Contains("RegexOptions.NonBacktracking", Assert.Single(Errors(Entry("foo(?=bar)", kind: "regex"))));
        Assert.Contains("not a valid regular expression", Assert.Single(Errors(Entry("(unclosed", kind: "regex"))));
    }

    [Fact]
    public void Lengths_are_limited_and_named_with_their_setting()
    {
        Assert.Contains("Ml:WatchedWords:MaxWordLength", Assert.Single(Errors(Entry("abcdefghijk"))));
        Assert.Contains("Ml:WatchedWords:MaxPatternLength", Assert.Single(Errors(Entry(new string('a', 21), kind: "regex"))));
    }

    [Fact]
    public void Action_fields_are_checked()
    {
        Assert.Contains("replacement: required", Assert.Single(Errors(Entry("darn", action: "replace"))));
        Assert.Contains("not a category", Assert.Single(Errors(Entry("x1", action: "add-category", category: "spam"))));
        Assert.Contains("only for \"replace\"", Assert.Single(Errors(Entry("x1", replacement: "y"))));
        Assert.Contains("is not one of", Assert.Single(Errors(Entry("x1", action: "blok"))));
        Assert.Contains("language", Assert.Single(Errors(Entry("x1", language: "English"))));
        Assert.Contains("no letters or digits", Assert.Single(Errors(Entry("!!!"))));
    }

    [Fact]
    public void The_list_is_limited_in_count_and_expressions_and_refuses_duplicates()
    {
        var list = new[] { Entry("a1"), Entry("A1"), Entry("b+", kind: "regex"), Entry("c+", kind: "regex") };

        var errors = WatchedWord.ValidateList(list, Limits, Categories, i => $"row {i + 2}");

        Assert.Contains(errors, e => e.Contains("at most 3 watched words (Ml:WatchedWords:MaxEntries), not 4"));
        Assert.Contains(errors, e => e.Contains("at most 1 regular expressions"));
        Assert.Contains("row 3: the same word as row 2 ('A1')", errors);
    }
}
