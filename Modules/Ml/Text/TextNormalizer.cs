using System.Globalization;
using System.Text;

namespace BirbalAI.Ml.Text;

/// <summary>
/// Brings text to the form the featuriser sees, the same for training and for serving: Unicode NFKC,
/// lower case, one space between words, and the common obfuscations folded back — zero-width characters,
/// look-alike letters from other scripts inside Latin words ("hаte" with a Cyrillic а), digits and symbols
/// standing for letters ("h4te", "$hit"), stretched letters ("haaaate"), spaced-out letters ("h a t e").
/// </summary>
static class TextNormalizer
{
    public static string Normalize(string text)
    {
        if (string.IsNullOrEmpty(text)) return "";
        var nfkc = text.Normalize(NormalizationForm.FormKC);
        var words = new List<string>();
        var word = new StringBuilder();
        foreach (var rune in nfkc.EnumerateRunes())
        {
            if (IsInvisible(rune)) continue;
            if (Rune.IsWhiteSpace(rune) || Rune.IsControl(rune))
            {
                Flush(word, words);
                continue;
            }
            var lower = Rune.ToLowerInvariant(rune);
            if (lower.IsBmp) word.Append((char)lower.Value);
            else word.Append(char.ConvertFromUtf32(lower.Value));
        }
        Flush(word, words);
        return string.Join(' ', JoinSpacedLetters(words));
    }

    static void Flush(StringBuilder word, List<string> words)
    {
        if (word.Length == 0) return;
        var w = FoldLookalikes(word.ToString());
        w = FoldLeet(w);
        w = Squeeze(w);
        words.Add(w);
        word.Clear();
    }

    /// <summary>Zero-width and formatting characters, soft hyphens, Arabic tatweel and short vowel marks.</summary>
    internal static bool IsInvisible(Rune rune) => rune.Value switch
    {
        0x00AD or 0x200B or 0x200C or 0x200D or 0x200E or 0x200F or 0x2060 or 0xFEFF or 0x0640 => true,
        >= 0x064B and <= 0x065F or 0x0670 => true,
        >= 0x202A and <= 0x202E or >= 0x2066 and <= 0x2069 => true,
        _ => false,
    };

    static readonly Dictionary<char, char> Lookalikes = new()
    {
        // Cyrillic
        ['а'] = 'a', ['е'] = 'e', ['о'] = 'o', ['р'] = 'p', ['с'] = 'c', ['у'] = 'y', ['х'] = 'x', ['і'] = 'i',
        ['ј'] = 'j', ['ѕ'] = 's', ['ԁ'] = 'd', ['һ'] = 'h', ['ӏ'] = 'l', ['к'] = 'k', ['м'] = 'm', ['т'] = 't', ['в'] = 'b', ['н'] = 'h',
        // Greek
        ['α'] = 'a', ['ε'] = 'e', ['ο'] = 'o', ['ρ'] = 'p', ['ι'] = 'i', ['κ'] = 'k', ['ν'] = 'v', ['τ'] = 't', ['υ'] = 'u', ['χ'] = 'x',
        // Latin variants
        ['ı'] = 'i', ['ɡ'] = 'g', ['ℓ'] = 'l',
    };

    /// <summary>Only inside words that also hold ASCII letters: a real Russian or Greek word is left alone.</summary>
    internal static string FoldLookalikes(string word)
    {
        if (!word.AsSpan().ContainsAnyExceptInRange('\0', '\u007F')) return word;   // plain ASCII: nothing to fold
        if (!word.Any(char.IsAsciiLetter) || !word.Any(Lookalikes.ContainsKey)) return word;
        return string.Concat(word.Select(c => Lookalikes.GetValueOrDefault(c, c)));
    }

    internal static readonly Dictionary<char, char> Leet = new()
    {
        ['4'] = 'a', ['@'] = 'a', ['3'] = 'e', ['1'] = 'i', ['!'] = 'i', ['0'] = 'o', ['5'] = 's', ['$'] = 's', ['7'] = 't', ['+'] = 't',
    };

    /// <summary>
    /// A digit or symbol becomes a letter only inside a word of letters: between two letters ("h4te"), or
    /// leading a word of letters ("$hit", "@ss"). Numbers ("2024", "covid19") and prices ("$5") stay.
    /// </summary>
    static readonly System.Buffers.SearchValues<char> LeetChars = System.Buffers.SearchValues.Create("4@31!05$7+");

    internal static string FoldLeet(string word)
    {
        if (!word.AsSpan().ContainsAny(LeetChars) || word.Count(char.IsLetter) < 2) return word;
        var chars = word.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            if (!Leet.TryGetValue(chars[i], out var letter)) continue;
            var before = i > 0 && char.IsLetter(chars[i - 1]);
            var after = i + 1 < chars.Length && (char.IsLetter(chars[i + 1]) || i + 2 < chars.Length && Leet.ContainsKey(chars[i + 1]) && char.IsLetter(chars[i + 2]));
            if (before && after || i == 0 && after && !char.IsDigit(chars[i])) chars[i] = letter;
        }
        return new string(chars);
    }

    /// <summary>Runs of three or more of one letter become two: "haaaate" → "haate", "sooo" → "soo".</summary>
    static string Squeeze(string word)
    {
        var run = false;
        for (var i = 2; i < word.Length && !run; i++) run = word[i] == word[i - 1] && word[i] == word[i - 2];
        if (!run) return word;
        var sb = new StringBuilder(word.Length);
        for (var i = 0; i < word.Length; i++)
        {
            if (i >= 2 && word[i] == word[i - 1] && word[i] == word[i - 2] && char.IsLetter(word[i])) continue;
            sb.Append(word[i]);
        }
        return sb.ToString();
    }

    /// <summary>Three or more one-letter words in a row are one spaced-out word: "h a t e" → "hate".</summary>
    static IEnumerable<string> JoinSpacedLetters(List<string> words)
    {
        var run = new List<string>();
        foreach (var word in words.SelectMany(SplitDotted))
        {
            if (word.Length == 1 && char.IsLetter(word[0]))
            {
                run.Add(word);
                continue;
            }
            foreach (var w in EndRun(run)) yield return w;
            yield return word;
        }
        foreach (var w in EndRun(run)) yield return w;
    }

    /// <summary>"h.a.t.e" and "h-a-t-e" are spaced-out letters too.</summary>
    static IEnumerable<string> SplitDotted(string word) =>
        word.Length >= 5 && word.Length % 2 == 1 && Enumerable.Range(0, word.Length).All(i => i % 2 == 0 ? char.IsLetter(word[i]) : word[i] is '.' or '-' or '_' or '*')
            ? word.Where((_, i) => i % 2 == 0).Select(c => c.ToString())
            : [word];

    static IEnumerable<string> EndRun(List<string> run)
    {
        IEnumerable<string> result = run.Count >= 3 ? [string.Concat(run)] : [.. run];
        run.Clear();
        return result;
    }
}
