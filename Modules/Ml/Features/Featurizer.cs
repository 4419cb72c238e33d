using System.Runtime.CompilerServices;

namespace BirbalAI.Ml.Features;

/// <summary>How text becomes feature ids; stored with every model version so serving featurises as training did.</summary>
sealed record FeaturizerSettings(int MinN = 2, int MaxN = 5, int WordNgrams = 2, int Buckets = 200_000)
{
    public void Validate()
    {
        if (MinN < 1 || MaxN < MinN || MaxN > 10) throw new ArgumentException($"character n-grams: 1 ≤ minn ({MinN}) ≤ maxn ({MaxN}) ≤ 10");
        if (WordNgrams is < 1 or > 5) throw new ArgumentException($"word n-grams: 1 to 5, not {WordNgrams}");
        if (Buckets is < 1_000 or > 20_000_000) throw new ArgumentException($"buckets: 1000 to 20000000, not {Buckets}");
    }
}

/// <summary>
/// Hashed features of normalised text, fastText-style: every word, the character n-grams of each word
/// padded as "&lt;word&gt;", and word n-grams up to <see cref="FeaturizerSettings.WordNgrams"/>, all hashed
/// (FNV-1a) into <see cref="FeaturizerSettings.Buckets"/> rows. The one piece of code for training and serving.
/// </summary>
sealed class Featurizer(FeaturizerSettings settings)
{
    const uint Offset = 2166136261, Prime = 16777619;
    const uint WordSeed = 0x57, CharSeed = 0x43, PhraseSeed = 0x50;   // separate the three kinds of feature

    public FeaturizerSettings Settings => settings;

    /// <summary>Feature ids of already normalised text (see <see cref="Text.TextNormalizer"/>); never empty.</summary>
    public int[] Featurize(string normalized)
    {
        var ids = new List<int>(normalized.Length * (settings.MaxN - settings.MinN + 2));
        Featurize(normalized, ids, null);
        return [.. ids];
    }

    /// <summary>
    /// The same ids as <see cref="Featurize(string)"/>, each with the word or word n-gram it came from (a
    /// character n-gram counts for its word: "<lo" of "loser" is "loser"), so an explanation names words and phrases.
    /// </summary>
    public (int[] Ids, string[] Ngrams) FeaturizeWithNgrams(string normalized)
    {
        var ids = new List<int>();
        var ngrams = new List<string>();
        Featurize(normalized, ids, ngrams);
        return ([.. ids], [.. ngrams]);
    }

    /// <summary>The one featuriser; <paramref name="ngrams"/>, when given, gets the source of every feature.</summary>
    void Featurize(string normalized, List<int> ids, List<string>? ngrams)
    {
        var words = normalized.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Span<uint> wordHashes = words.Length <= 512 ? stackalloc uint[words.Length] : new uint[words.Length];
        Span<char> padded = stackalloc char[130];
        for (var w = 0; w < words.Length; w++)
        {
            var word = words[w].Length > 128 ? words[w][..128] : words[w];
            wordHashes[w] = Hash(Start(WordSeed), word);
            ids.Add(Bucket(wordHashes[w]));
            ngrams?.Add(word);
            padded[0] = '<';
            word.CopyTo(padded[1..]);
            padded[word.Length + 1] = '>';
            var chars = padded[..(word.Length + 2)];
            for (var i = 0; i < chars.Length; i++)
            {
                var h = Start(CharSeed);
                for (var n = 1; n <= settings.MaxN && i + n <= chars.Length; n++)
                {
                    h = Step(h, chars[i + n - 1]);
                    // a bare "<" or ">" says nothing; the whole padded word is the word feature already
                    if (n >= settings.MinN && !(n == chars.Length))
                    {
                        ids.Add(Bucket(h));
                        ngrams?.Add(word);
                    }
                }
            }
        }
        for (var n = 2; n <= settings.WordNgrams; n++)
            for (var w = 0; w + n <= words.Length; w++)
            {
                var h = Start(PhraseSeed);
                for (var k = 0; k < n; k++) h = StepUInt(h, wordHashes[w + k]);
                ids.Add(Bucket(h));
                ngrams?.Add(string.Join(' ', words, w, n));
            }
        if (ids.Count == 0)
        {
            ids.Add(Bucket(Hash(Start(WordSeed), "</s>")));
            ngrams?.Add("</s>");
        }
    }

    int Bucket(uint hash) => (int)(hash % (uint)settings.Buckets);

    static uint Start(uint seed) => Step(Offset, (char)seed);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static uint Step(uint h, char c)
    {
        h = (h ^ (byte)c) * Prime;
        return (h ^ (byte)(c >> 8)) * Prime;
    }

    static uint StepUInt(uint h, uint value)
    {
        for (var i = 0; i < 4; i++) h = (h ^ (byte)(value >> (8 * i))) * Prime;
        return h;
    }

    static uint Hash(uint h, string s)
    {
        foreach (var c in s) h = Step(h, c);
        return h;
    }
}
