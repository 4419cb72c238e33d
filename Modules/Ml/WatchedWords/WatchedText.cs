using System.Globalization;
using System.Text;
using BirbalAI.Ml.Text;

namespace BirbalAI.Ml.WatchedWords;

/// <summary>
/// A text as watched words see it: the words (tokens) of its normalised form — NFKC per character, lower case,
/// invisible characters dropped, look-alike letters and leet folded as <see cref="TextNormalizer"/> does, spaced-out
/// letters ("k i l l", "k.i.l.l") joined — each with the span of the original text it came from, so a match can be
/// censored or replaced in the text as written. A token is a run of letters, digits, marks and inner apostrophes.
/// </summary>
sealed class WatchedText
{
    /// <summary>A token: its folded text and its span [<see cref="Start"/>, <see cref="End"/>) in the original.</summary>
    public readonly record struct Token(string Text, int Start, int End, int[]? CharStarts, int[]? CharEnds, int FoldedStart);

    public string Original { get; }
    public IReadOnlyList<Token> Tokens => tokens;

    readonly List<Token> tokens;
    readonly int[] origStart, origEnd;

    WatchedText(string original, List<Token> tokens, int[] origStart, int[] origEnd)
    {
        Original = original;
        this.tokens = tokens;
        this.origStart = origStart;
        this.origEnd = origEnd;
    }

    /// <summary>The original span of character <paramref name="offset"/> of token <paramref name="index"/>.</summary>
    public (int Start, int End) CharSpan(int index, int offset)
    {
        var t = tokens[index];
        if (t.CharStarts is { } starts) return (starts[offset], t.CharEnds![offset]);
        return (origStart[t.FoldedStart + offset], origEnd[t.FoldedStart + offset]);
    }

    public static WatchedText Fold(string text)
    {
        var folded = new StringBuilder(text.Length);
        var starts = new List<int>(text.Length);
        var ends = new List<int>(text.Length);
        var span = text.AsSpan();
        for (var pos = 0; pos < text.Length;)
        {
            var length = StringInfo.GetNextTextElementLength(span[pos..]);
            if (length == 0) break;
            if (length == 1 && span[pos] < 0x80) Add(char.ToLowerInvariant(span[pos]), pos, pos + 1);
            else
            {
                var element = span.Slice(pos, length).ToString();
                var nfkc = element.IsNormalized(NormalizationForm.FormKC) ? element : element.Normalize(NormalizationForm.FormKC);
                foreach (var rune in nfkc.EnumerateRunes())
                {
                    if (TextNormalizer.IsInvisible(rune)) continue;
                    var lower = Rune.ToLowerInvariant(rune);
                    if (lower.IsBmp) Add((char)lower.Value, pos, pos + length);
                    else
                    {
                        var pair = lower.ToString();
                        Add(pair[0], pos, pos + length);
                        Add(pair[1], pos, pos + length);
                    }
                }
            }
            pos += length;
        }

        var chars = folded.ToString().ToCharArray();
        // Look-alikes and leet are folded per whitespace-separated word, as the normaliser does (both keep the length).
        for (var i = 0; i < chars.Length;)
        {
            if (char.IsWhiteSpace(chars[i]) || char.IsControl(chars[i])) { i++; continue; }
            var j = i;
            while (j < chars.Length && !char.IsWhiteSpace(chars[j]) && !char.IsControl(chars[j])) j++;
            var word = new string(chars, i, j - i);
            var refolded = TextNormalizer.FoldLeet(TextNormalizer.FoldLookalikes(word));
            if (!ReferenceEquals(word, refolded) && refolded.Length == word.Length) refolded.CopyTo(0, chars, i, word.Length);
            // Beyond the normaliser: a digit leading a word of at least three letters stands for a letter too ("1d1ot"),
            // while short ordinals ("1st", "3rd") stay. Entries are folded the same way, so both sides agree.
            if (j - i >= 4 && char.IsDigit(chars[i]) && TextNormalizer.Leet.TryGetValue(chars[i], out var letter) && char.IsLetter(chars[i + 1])
                && LetterCount(chars, i, j) >= 3)
                chars[i] = letter;
            i = j;
        }

        var origStart = starts.ToArray();
        var origEnd = ends.ToArray();
        var raw = new List<Token>();
        for (var i = 0; i < chars.Length;)
        {
            if (!IsWordChar(chars[i]) || IsApostrophe(chars[i])) { i++; continue; }
            var j = i;
            while (j < chars.Length && (IsWordChar(chars[j]) && !IsApostrophe(chars[j]) || IsApostrophe(chars[j]) && j + 1 < chars.Length && IsWordChar(chars[j + 1]) && !IsApostrophe(chars[j + 1])))
                j++;
            raw.Add(new Token(new string(chars, i, j - i), origStart[i], origEnd[j - 1], null, null, i));
            i = j;
        }
        return new WatchedText(text, JoinSpacedLetters(raw), origStart, origEnd);

        void Add(char c, int start, int end)
        {
            folded.Append(c);
            starts.Add(start);
            ends.Add(end);
        }
    }

    static int LetterCount(char[] chars, int from, int to)
    {
        var n = 0;
        for (var k = from; k < to; k++) n += char.IsLetter(chars[k]) ? 1 : 0;
        return n;
    }

    static bool IsWordChar(char c) => char.IsLetterOrDigit(c) || IsApostrophe(c) || CharUnicodeInfo.GetUnicodeCategory(c) is
        UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark;

    static bool IsApostrophe(char c) => c is '\'' or '’';

    /// <summary>A one-character token that may stand for a letter in a spaced-out word ("k 1 l l").</summary>
    static char? Letter(Token t) => t.Text.Length != 1 ? null : char.IsLetter(t.Text[0]) ? t.Text[0] : TextNormalizer.Leet.TryGetValue(t.Text[0], out var l) ? l : null;

    /// <summary>Three or more one-letter tokens in a row (at least two of them real letters) are one spaced-out word.</summary>
    static List<Token> JoinSpacedLetters(List<Token> raw)
    {
        if (raw.Count < 3) return raw;
        var result = new List<Token>(raw.Count);
        for (var i = 0; i < raw.Count;)
        {
            var j = i;
            while (j < raw.Count && Letter(raw[j]) is not null) j++;
            var letters = 0;
            for (var k = i; k < j; k++) letters += char.IsLetter(raw[k].Text[0]) ? 1 : 0;
            if (j - i >= 3 && letters >= 2)
            {
                var word = new char[j - i];
                var charStarts = new int[j - i];
                var charEnds = new int[j - i];
                for (var k = i; k < j; k++)
                {
                    word[k - i] = Letter(raw[k])!.Value;
                    charStarts[k - i] = raw[k].Start;
                    charEnds[k - i] = raw[k].End;
                }
                result.Add(new Token(new string(word), raw[i].Start, raw[j - 1].End, charStarts, charEnds, raw[i].FoldedStart));
                i = j;
            }
            else if (j > i)
            {
                for (var k = i; k < j; k++) result.Add(raw[k]);
                i = j;
            }
            else result.Add(raw[i++]);
        }
        return result;
    }
}
