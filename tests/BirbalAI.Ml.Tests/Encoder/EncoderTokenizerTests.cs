using BirbalAI.Ml.Encoder;
using static BirbalAI.Ml.Tests.Encoder.Encoders;

namespace BirbalAI.Ml.Tests.Encoder;

public sealed class EncoderTokenizerTests
{
    static readonly EncoderTokenizer Tokenizer = new(BirbalAI.Ml.Encoder.EncoderFiles.VocabularyPath, EncoderSettings.Default);
    static readonly EncoderTokenizer SmallTokenizer = new(BirbalAI.Ml.Encoder.EncoderFiles.VocabularyPath, Small);

    [Fact]
    public void Hello_world_is_cls_hello_world_sep_with_the_ids_of_vocab_txt()
    {
        var text = Tokenizer.Tokenize("Hello world");

        var window = Assert.Single(text.Windows);
        Assert.Equal([Id("[CLS]"), Id("hello"), Id("world"), Id("[SEP]")], window);
        Assert.Equal([101L, 7592, 2088, 102], window);   // as BERT's uncased vocabulary numbers them
        Assert.Equal(new TextCoverage(2, 2, 11), text.Coverage);
        Assert.True(text.Coverage.Complete);
    }

    [Fact]
    public void A_word_missing_from_the_vocabulary_is_split_into_word_pieces()
    {
        var pieces = Tokenizer.Pieces("unbelievablyxyz", out _).Select(p => p.Value).ToList();

        Assert.Equal(["un", "##bel", "##ie", "##va", "##bly", "##xy", "##z"], pieces);
        Assert.Equal("unbelievablyxyz", string.Concat(pieces).Replace("##", ""));
        Assert.Equal(pieces.Select(Id), Tokenizer.Tokenize("unbelievablyxyz").Windows[0][1..^1]);
    }

    [Fact]
    public void Tabs_newlines_case_and_accents_are_read_as_the_uncased_model_was_trained()
    {
        var ids = Tokenizer.Tokenize("Café\tnaïve\r\nRÉSUMÉ,  déjà vu").Windows[0];

        Assert.Equal(["[CLS]", "cafe", "naive", "resume", ",", "de", "##ja", "vu", "[SEP]"], ids.Select(Token));   // "deja" is no word of vocab.txt
    }

    [Fact]
    public void An_empty_text_is_one_window_of_cls_and_sep_and_fully_covered()
    {
        var text = Tokenizer.Tokenize("");

        Assert.Equal([Id("[CLS]"), Id("[SEP]")], Assert.Single(text.Windows));
        Assert.True(text.Coverage.Complete);
    }

    [Fact]
    public void A_long_text_is_cut_into_windows_capped_at_the_setting_and_the_coverage_says_how_far_they_read()
    {
        // 16-token windows hold 14 pieces; 3 windows read 42 of the text's pieces at most.
        var text = string.Join(" ", Enumerable.Range(0, 20).Select(i => $"the quick brown fox number {i} jumps"));

        var tokenized = SmallTokenizer.Tokenize(text);

        Assert.Equal(3, tokenized.Windows.Count);
        Assert.All(tokenized.Windows, w =>
        {
            Assert.True(w.Length <= 16);
            Assert.Equal(Id("[CLS]"), w[0]);
            Assert.Equal(Id("[SEP]"), w[^1]);
        });
        Assert.Equal(tokenized.Windows.Sum(w => w.Length - 2), tokenized.Coverage.CoveredTokens);
        Assert.InRange(tokenized.Coverage.CoveredTokens, 35, 42);
        Assert.True(tokenized.Coverage.Tokens > tokenized.Coverage.CoveredTokens);   // it read at least one piece past the windows
        Assert.False(tokenized.Coverage.Complete);
        // The characters read end where the last window ends: the rest is left to the n-gram model.
        var read = text[..tokenized.Coverage.CoveredChars];
        Assert.Equal(tokenized.Coverage.CoveredTokens, SmallTokenizer.Pieces(read, out _).Count);
    }

    [Fact]
    public void A_long_text_is_read_only_as_far_as_its_windows_need_and_they_match_those_of_the_whole_text()
    {
        var random = new Random(5);
        var words = Enumerable.Range(0, 4_000).Select(_ => new string([.. Enumerable.Range(0, random.Next(2, 11)).Select(_ => (char)('a' + random.Next(26)))]));
        var text = string.Join(" ", words)[..20_000];
        var whole = Tokenizer.Pieces(text, out _);

        var allocated = GC.GetAllocatedBytesForCurrentThread();
        var tokenized = Tokenizer.Tokenize(text);
        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;

        var read = tokenized.Windows.SelectMany(w => w[1..^1]).ToList();
        Assert.Equal(whole.Take(read.Count).Select(p => (long)p.Id), read);
        Assert.Equal(EncoderSettings.Default.MaxWindows, tokenized.Windows.Count);
        Assert.False(tokenized.Coverage.Complete);
        Assert.Equal(Tokenizer.Pieces(text[..tokenized.Coverage.CoveredChars], out _).Count, tokenized.Coverage.CoveredTokens);
        Assert.InRange(tokenized.Coverage.Tokens, read.Count + 1, whole.Count / 2);
        // The whole text's pieces (about 11,000 here) cost about 800 KiB to make; the windows' prefix a fraction of that.
        Assert.True(allocated < 300 * 1024, $"{allocated / 1024} KiB allocated");
    }

    [Fact]
    public void A_text_that_fits_in_the_windows_is_read_whole_and_no_cut_falls_inside_a_word()
    {
        var text = "Antidisestablishmentarianism and hyperparameterization are long words, and tokenisation cuts them into pieces, my friend";

        var tokenized = SmallTokenizer.Tokenize(text);

        Assert.True(tokenized.Windows.Count > 1);
        Assert.True(tokenized.Coverage.Complete);
        Assert.Equal(text.Length, tokenized.Coverage.CoveredChars);
        Assert.All(tokenized.Windows, w => Assert.False(Token(w[1]).StartsWith("##"), $"{Token(w[1])} begins a window"));
        Assert.Equal(SmallTokenizer.Pieces(text, out _).Select(p => (long)p.Id), tokenized.Windows.SelectMany(w => w[1..^1]));
    }

    [Fact]
    public void Batches_hold_whole_texts_sorted_by_length_within_the_token_budget()
    {
        var settings = new EncoderSettings(MaxWindows: 4, WindowTokens: 16, MaxBatchTokens: 64, MaxBatchWindows: 3);
        var tokenizer = new EncoderTokenizer(BirbalAI.Ml.Encoder.EncoderFiles.VocabularyPath, settings);
        var texts = new[] { "hi", "a somewhat longer text than the others here, with more words in it", "ok then", "yes",
            string.Join(" ", Enumerable.Repeat("long words again and again", 12)) }.Select(tokenizer.Tokenize).ToList();

        var batches = EncoderBatches.Plan(texts, settings).ToList();

        Assert.Equal(Enumerable.Range(0, texts.Count), batches.SelectMany(b => b).Order());
        Assert.All(batches.Where(b => b.Length > 1), b =>
        {
            Assert.True(b.Sum(i => texts[i].Windows.Count) * b.Max(i => texts[i].LongestWindow) <= 64);
            Assert.True(b.Sum(i => texts[i].Windows.Count) <= 3);
        });
        Assert.Equal(4, texts[4].Windows.Count);
        Assert.Contains(batches, b => b.SequenceEqual([4]));   // a text over the budget runs alone, never split
    }
}
