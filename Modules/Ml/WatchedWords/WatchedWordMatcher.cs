using System.Text;
using System.Text.RegularExpressions;
using BirbalAI.Contracts.Ml;

namespace BirbalAI.Ml.WatchedWords;

/// <summary>
/// The watched words of a policy version, compiled once: whole words and phrases in a dictionary keyed by their
/// first token (a lookup per token of the text), everything else (regular expressions, words matched inside
/// other words) in one NonBacktracking alternation that says whether any of them matches, then each on its own
/// only when it does. Matching is on <see cref="WatchedText"/>'s tokens; expressions see them joined by single
/// spaces, in lower case.
/// </summary>
sealed class WatchedWordMatcher
{
    public const RegexOptions RegexOptionsUsed = RegexOptions.NonBacktracking | RegexOptions.CultureInvariant;

    public static readonly WatchedWordMatcher Empty = new([], TimeSpan.FromMilliseconds(50));

    sealed record Phrase(WatchedWord Entry, string[] Tokens);
    sealed record Expression(WatchedWord Entry, Regex Regex);

    readonly Dictionary<string, List<Phrase>> byFirst = new(StringComparer.Ordinal);
    readonly Dictionary<string, List<Phrase>> byCollapsedFirst = new(StringComparer.Ordinal);
    readonly List<Expression> expressions = [];
    readonly Regex? any;

    public IReadOnlyList<WatchedWord> Entries { get; }

    public WatchedWordMatcher(IReadOnlyList<WatchedWord> entries, TimeSpan timeout)
    {
        Entries = entries;
        var alternatives = new List<string>();
        foreach (var entry in entries)
        {
            string? pattern = null;
            if (entry.Kind == WatchedWord.Kinds.Word)
            {
                var tokens = WatchedText.Fold(entry.Pattern).Tokens.Select(t => t.Text).ToArray();
                if (tokens.Length == 0) continue;
                if (entry.WholeWord)
                {
                    var phrase = new Phrase(entry, tokens);
                    Add(byFirst, tokens[0], phrase);
                    Add(byCollapsedFirst, Collapse(tokens[0]), phrase);
                    continue;
                }
                pattern = Regex.Escape(string.Join(' ', tokens));
            }
            else if (entry.Kind == WatchedWord.Kinds.Regex) pattern = entry.WholeWord ? $@"\b(?:{entry.Pattern})\b" : entry.Pattern;
            if (pattern is null) continue;
            try
            {
                expressions.Add(new Expression(entry, new Regex(pattern, RegexOptionsUsed, timeout)));
                alternatives.Add($"(?:{pattern})");
            }
            catch (ArgumentException) { }   // refused when saved; an entry that no longer compiles is skipped
            catch (NotSupportedException) { }
        }
        if (alternatives.Count > 0)
        {
            try { any = new Regex(string.Join('|', alternatives), RegexOptionsUsed, timeout); }
            catch (Exception e) when (e is ArgumentException or NotSupportedException) { any = null; }
        }
    }

    static void Add(Dictionary<string, List<Phrase>> index, string key, Phrase phrase)
    {
        if (!index.TryGetValue(key, out var list)) index[key] = list = [];
        list.Add(phrase);
    }

    public bool IsEmpty => Entries.Count == 0;

    /// <summary>The entries that match <paramref name="text"/> (in language <paramref name="language"/>), in text order.</summary>
    public IReadOnlyList<WatchedWordMatch> Match(string text, string language)
    {
        if (IsEmpty || text.Length == 0) return [];
        var folded = WatchedText.Fold(text);
        var tokens = folded.Tokens;
        List<WatchedWordMatch>? matches = null;
        if (byFirst.Count > 0)
        {
            for (var i = 0; i < tokens.Count; i++)
            {
                var token = tokens[i].Text;
                var stretched = HasRunOfThree(token);
                if (byFirst.TryGetValue(token, out var exact)) Try(exact, i);
                if (stretched && byCollapsedFirst.TryGetValue(Collapse(token), out var loose)) Try(loose, i, skipExactFirst: true);
            }
        }
        if (any is not null) MatchExpressions(folded, language, ref matches);
        if (matches is null) return [];
        return [.. matches.OrderBy(m => m.Start).ThenBy(m => m.EntryId)];

        void Try(List<Phrase> phrases, int i, bool skipExactFirst = false)
        {
            foreach (var p in phrases)
            {
                if (skipExactFirst && p.Tokens[0] == tokens[i].Text) continue;   // already tried as an exact first token
                if (!Applies(p.Entry, language) || i + p.Tokens.Length > tokens.Count) continue;
                var all = true;
                for (var k = 0; k < p.Tokens.Length && all; k++) all = SameWord(tokens[i + k].Text, p.Tokens[k]);
                if (!all) continue;
                var start = tokens[i].Start;
                var end = tokens[i + p.Tokens.Length - 1].End;
                (matches ??= []).Add(Found(p.Entry, text, start, end));
            }
        }
    }

    void MatchExpressions(WatchedText folded, string language, ref List<WatchedWordMatch>? matches)
    {
        // The tokens joined by single spaces, and for every character of it the token it belongs to.
        var joined = new StringBuilder();
        var owner = new List<(int Token, int Offset)>();
        for (var t = 0; t < folded.Tokens.Count; t++)
        {
            if (t > 0) { joined.Append(' '); owner.Add((-1, 0)); }
            var token = folded.Tokens[t].Text;
            joined.Append(token);
            for (var k = 0; k < token.Length; k++) owner.Add((t, k));
        }
        var input = joined.ToString();
        try
        {
            if (!any!.IsMatch(input)) return;
        }
        catch (RegexMatchTimeoutException) { }   // then each on its own, each with its own timeout
        foreach (var e in expressions)
        {
            if (!Applies(e.Entry, language)) continue;
            Match m;
            try { m = e.Regex.Match(input); }
            catch (RegexMatchTimeoutException)
            {
                // Fails closed: a rule that could not finish holds the text for a person.
                (matches ??= []).Add(new WatchedWordMatch(e.Entry.Id, e.Entry.Pattern, WatchedWord.Actions.RequireApproval, null, "(timed out)", 0, 0));
                continue;
            }
            if (!m.Success || m.Length == 0) continue;
            var first = owner.FindIndex(m.Index, m.Length, o => o.Token >= 0);
            var last = owner.FindLastIndex(m.Index + m.Length - 1, m.Length, o => o.Token >= 0);
            if (first < 0) continue;
            var (start, _) = folded.CharSpan(owner[first].Token, owner[first].Offset);
            var (_, end) = folded.CharSpan(owner[last].Token, owner[last].Offset);
            (matches ??= []).Add(Found(e.Entry, folded.Original, start, end));
        }
    }

    static WatchedWordMatch Found(WatchedWord entry, string text, int start, int end) =>
        new(entry.Id, entry.Pattern, entry.Action, entry.Category, text[start..end], start, end - start);

    static bool Applies(WatchedWord entry, string language) =>
        entry.Language is null || string.Equals(entry.Language, language, StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// The text's word is the entry's word, or a stretched form of it: every run of one letter is as long as the
    /// entry's, or longer only where the text repeats it three or more times ("kiiilll" is "kill"; "as" is not "ass").
    /// </summary>
    static bool SameWord(string text, string entry)
    {
        if (text == entry) return true;
        if (!HasRunOfThree(text)) return false;
        int i = 0, j = 0;
        while (i < text.Length && j < entry.Length)
        {
            if (text[i] != entry[j]) return false;
            var c = text[i];
            int ti = i, ej = j;
            while (ti < text.Length && text[ti] == c) ti++;
            while (ej < entry.Length && entry[ej] == c) ej++;
            int textRun = ti - i, entryRun = ej - j;
            if (textRun < entryRun || textRun > entryRun && textRun < 3) return false;
            i = ti;
            j = ej;
        }
        return i == text.Length && j == entry.Length;
    }

    static bool HasRunOfThree(string word)
    {
        for (var i = 2; i < word.Length; i++)
            if (word[i] == word[i - 1] && word[i] == word[i - 2]) return true;
        return false;
    }

    /// <summary>Every run of one character as one: "kiiill" → "kil".</summary>
    static string Collapse(string word)
    {
        var sb = new StringBuilder(word.Length);
        foreach (var c in word)
            if (sb.Length == 0 || sb[^1] != c) sb.Append(c);
        return sb.ToString();
    }

    const char Mask = '■';

    /// <summary>
    /// The text to show: censored matches masked (every character but spaces becomes ■), replaced ones swapped for
    /// their replacement; where two overlap, the one that starts first wins. Null when nothing changes.
    /// </summary>
    public static string? Display(string text, IReadOnlyList<WatchedWordMatch> matches, IReadOnlyList<WatchedWord> entries)
    {
        var edits = matches.Where(m => m.Action is WatchedWord.Actions.Censor or WatchedWord.Actions.Replace && m.Length > 0)
            .OrderBy(m => m.Start).ThenByDescending(m => m.Length).ToList();
        if (edits.Count == 0) return null;
        var sb = new StringBuilder(text.Length);
        var at = 0;
        foreach (var m in edits)
        {
            if (m.Start < at) continue;
            sb.Append(text, at, m.Start - at);
            if (m.Action == WatchedWord.Actions.Censor)
            {
                var span = text.AsSpan(m.Start, m.Length);
                for (var k = 0; k < span.Length;)
                {
                    var length = System.Globalization.StringInfo.GetNextTextElementLength(span[k..]);
                    sb.Append(char.IsWhiteSpace(span[k]) ? span[k] : Mask);
                    k += Math.Max(1, length);
                }
            }
            else sb.Append(entries.FirstOrDefault(e => e.Id == m.EntryId)?.Replacement ?? "");
            at = m.Start + m.Length;
        }
        sb.Append(text, at, text.Length - at);
        var shown = sb.ToString();
        return shown == text ? null : shown;
    }
}
