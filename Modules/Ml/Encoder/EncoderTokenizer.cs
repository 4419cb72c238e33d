using Microsoft.ML.Tokenizers;

namespace BirbalAI.Ml.Encoder;

/// <summary>
/// How much of a text its windows hold: the pieces read (all of the text's when it fits, else at least one past the
/// windows), the pieces encoded, and the characters those cover.
/// </summary>
readonly record struct TextCoverage(int Tokens, int CoveredTokens, int CoveredChars)
{
    public bool Complete => CoveredTokens >= Tokens;
}

/// <summary>A text as encoder input: its windows, each [CLS] pieces [SEP], and what they cover.</summary>
sealed record TokenizedText(IReadOnlyList<long[]> Windows, TextCoverage Coverage)
{
    public int LongestWindow => Windows.Max(w => w.Length);
}

/// <summary>
/// WordPiece on the encoder's vocabulary (Microsoft.ML.Tokenizers' BERT tokenizer, lower-cased, accents removed as
/// the uncased model was trained), then cut into windows. A cut never falls inside a word when it can be avoided:
/// it moves back to the word's first piece.
/// </summary>
sealed class EncoderTokenizer
{
    readonly BertTokenizer bert;
    readonly EncoderSettings settings;

    public EncoderTokenizer(string vocabularyPath, EncoderSettings settings)
    {
        settings.Validate();
        this.settings = settings;
        bert = BertTokenizer.Create(vocabularyPath, Options);
    }

    /// <summary>The vocabulary as bytes (a registered version's, from the blob store).</summary>
    public EncoderTokenizer(byte[] vocabulary, EncoderSettings settings)
    {
        settings.Validate();
        this.settings = settings;
        using var stream = new MemoryStream(vocabulary, writable: false);
        bert = BertTokenizer.Create(stream, Options);
    }

    static BertOptions Options => new() { LowerCaseBeforeTokenization = true, RemoveNonSpacingMarks = true };

    public EncoderSettings Settings => settings;
    public long ClassificationId => bert.ClassificationTokenId;
    public long SeparatorId => bert.SeparatorTokenId;

    /// <summary>The word pieces of <paramref name="text"/>, without [CLS] and [SEP].</summary>
    public IReadOnlyList<EncodedToken> Pieces(string text, out string normalized)
    {
        // The BERT normaliser drops tabs and newlines instead of reading them as spaces ("a\tb" would be one word):
        // they become spaces first, which keeps every offset.
        var tokens = bert.EncodeToTokens(SpacesForControls(text), out var normalizedText);
        normalized = normalizedText ?? text;
        var start = tokens.Count > 0 && tokens[0].Id == bert.ClassificationTokenId ? 1 : 0;
        var end = tokens.Count > start && tokens[^1].Id == bert.SeparatorTokenId ? tokens.Count - 1 : tokens.Count;
        return start == 0 && end == tokens.Count ? tokens : tokens.Skip(start).Take(end - start).ToList();
    }

    static string SpacesForControls(string text) =>
        text.AsSpan().IndexOfAny(Controls) < 0 ? text
        : string.Create(text.Length, text, (span, source) =>
        {
            for (var i = 0; i < span.Length; i++) span[i] = char.IsControl(source[i]) ? ' ' : source[i];
        });

    static readonly System.Buffers.SearchValues<char> Controls =
        System.Buffers.SearchValues.Create([.. Enumerable.Range(0, 0x20).Select(c => (char)c), .. Enumerable.Range(0x7f, 0x21).Select(c => (char)c)]);

    /// <summary>
    /// The windows of <paramref name="text"/>. Only as much of the text is tokenised as the windows can hold (and one
    /// piece more, to know whether it goes on): a prefix cut at a space, grown until it has the pieces or is the whole
    /// text, so a 20,000-character text costs a few windows' worth of pieces, not all of its own.
    /// </summary>
    public TokenizedText Tokenize(string text)
    {
        var room = settings.WindowPieces;
        var needed = room * settings.MaxWindows + 1;
        IReadOnlyList<EncodedToken>? pieces = null;
        string normalized = text, read = text;
        for (var chars = needed * PrefixCharsPerPiece; chars < text.Length && pieces is null; chars *= 2)
        {
            var cut = text.LastIndexOf(' ', chars);
            if (cut <= 0) continue;
            var candidate = Pieces(text[..cut], out var candidateNormalized);
            if (candidate.Count >= needed) (pieces, normalized, read) = (candidate, candidateNormalized, text[..cut]);
        }
        pieces ??= Pieces(text, out normalized);
        var whole = ReferenceEquals(read, text);
        var windows = new List<long[]>();
        var at = 0;
        while (at < pieces.Count && windows.Count < settings.MaxWindows)
        {
            var take = Math.Min(room, pieces.Count - at);
            if (at + take < pieces.Count)
            {
                // Back to the start of the word that would be cut, unless that word is longer than half a window.
                var back = take;
                while (back > take - room / 2 && back > 1 && pieces[at + back].Value.StartsWith("##", StringComparison.Ordinal)) back--;
                if (!pieces[at + back].Value.StartsWith("##", StringComparison.Ordinal)) take = back;
            }
            var window = new long[take + 2];
            window[0] = bert.ClassificationTokenId;
            for (var i = 0; i < take; i++) window[i + 1] = pieces[at + i].Id;
            window[^1] = bert.SeparatorTokenId;
            windows.Add(window);
            at += take;
        }
        if (windows.Count == 0) windows.Add([bert.ClassificationTokenId, bert.SeparatorTokenId]);
        var coveredChars = at >= pieces.Count && whole ? text.Length : Original(pieces[at - 1].Offset.End.GetOffset(normalized.Length), normalized.Length, read.Length);
        // Pieces counts what was read: the whole text's pieces when it was read whole, else at least one past the windows.
        return new TokenizedText(windows, new TextCoverage(pieces.Count, at, coveredChars));
    }

    /// <summary>The first prefix tried holds this many characters per piece the windows need (English averages 4 to 5).</summary>
    const int PrefixCharsPerPiece = 8;

    /// <summary>An offset into the normalised text as one into the original (normalising may change the length: accents go).</summary>
    static int Original(int offset, int normalizedLength, int length) =>
        normalizedLength == length ? offset : (int)Math.Min(length, Math.Round(offset * (double)length / Math.Max(1, normalizedLength)));
}
