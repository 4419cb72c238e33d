using BirbalAI.Ml.WatchedWords;

namespace BirbalAI.Ml.Tests.WatchedWords;

public sealed class WatchedWordMatcherTests
{
    static WatchedWord Word(string pattern, string action = WatchedWord.Actions.Block, bool wholeWord = true, string? language = null, string? replacement = null) =>
        new(Guid.NewGuid(), pattern, WatchedWord.Kinds.Word, action, replacement, null, language, wholeWord);

    static WatchedWord Regex(string pattern, string action = WatchedWord.Actions.Block, bool wholeWord = true) =>
        new(Guid.NewGuid(), pattern, WatchedWord.Kinds.Regex, action, null, null, null, wholeWord);

    static WatchedWordMatcher Matcher(params WatchedWord[] entries) => new(entries, TimeSpan.FromMilliseconds(100));

    [Theory]
    [InlineData("I will kill you")]
    [InlineData("I will KILL you")]
    [InlineData("I will k i l l you")]
    [InlineData("I will k.i.l.l you")]
    [InlineData("I will k-i-l-l you")]
    [InlineData("I will k1ll you")]
    [InlineData("I will k!ll you")]
    [InlineData("I will kіll you")]                  // Cyrillic і
    [InlineData("I will ｋｉｌｌ you")]                // full-width
    [InlineData("I will 𝐤𝐢𝐥𝐥 you")]                  // mathematical bold (outside the BMP)
    [InlineData("I will ki\u200Bll you")]             // zero-width space
    [InlineData("I will kiiiilll you")]              // stretched
    [InlineData("kill!")]
    public void Obfuscated_and_look_alike_forms_of_a_word_match(string text)
    {
        var matches = Matcher(Word("kill")).Match(text, "en");

        var match = Assert.Single(matches);
        Assert.Equal("kill", match.Pattern);
        Assert.Equal(match.Matched, text.Substring(match.Start, match.Length));
        Assert.DoesNotContain("you", match.Matched, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("cunt", "I grew up in Scunthorpe")]
    [InlineData("kill", "the skill of the killer")]
    [InlineData("ass", "a class of assets, as usual")]
    [InlineData("ass", "as")]
    [InlineData("hate", "whatever")]
    [InlineData("to", "too")]
    public void Whole_words_do_not_match_inside_other_words(string word, string text) =>
        Assert.Empty(Matcher(Word(word)).Match(text, "en"));

    [Fact]
    public void Without_whole_word_a_word_matches_inside_others()
    {
        var match = Assert.Single(Matcher(Word("kill", wholeWord: false)).Match("what a skilled player", "en"));
        Assert.Equal("kill", match.Matched);
    }

    [Fact]
    public void A_phrase_matches_its_words_in_order_with_any_spacing_or_punctuation()
    {
        var matcher = Matcher(Word("free crypto"));

        Assert.Equal("FREE   crypto", Assert.Single(matcher.Match("get FREE   crypto now", "en")).Matched);
        Assert.Equal("free-crypto", Assert.Single(matcher.Match("get free-crypto now", "en")).Matched);
        Assert.Empty(matcher.Match("crypto free", "en"));
        Assert.Empty(matcher.Match("free cryptography", "en"));
    }

    [Fact]
    public void An_entry_for_one_language_matches_only_texts_detected_in_it()
    {
        var matcher = Matcher(Word("gift", language: "de"));

        Assert.Single(matcher.Match("das ist gift", "de"));
        Assert.Empty(matcher.Match("this is a gift", "en"));
    }

    [Fact]
    public void Expressions_match_the_folded_text_whole_word_by_default()
    {
        var matcher = Matcher(Regex(@"scam\w*"), Regex(@"bit\.ly/\w+", wholeWord: false));

        Assert.Equal("sc4mmers", Assert.Single(matcher.Match("watch out for sc4mmers", "en")).Matched);
        Assert.Empty(matcher.Match("an antiscam tool", "en"));
    }

    [Fact]
    public void Expressions_see_tokens_joined_by_single_spaces()
    {
        var matcher = Matcher(Regex(@"\d{3} \d{4}"));

        Assert.Equal("555-1234", Assert.Single(matcher.Match("call 555-1234 now", "en")).Matched);
    }

    [Fact]
    public void Every_matching_entry_is_reported_in_text_order()
    {
        var matcher = Matcher(Word("idiot", WatchedWord.Actions.Censor), Word("kill"), Regex("stup[i1]d", WatchedWord.Actions.Flag));

        var matches = matcher.Match("stupid idiot, I will kill you", "en");

        Assert.Equal(["stup[i1]d", "idiot", "kill"], matches.Select(m => m.Pattern));
    }

    [Fact]
    public void Censor_masks_each_character_of_the_match_as_written_and_replace_swaps_it()
    {
        var idiot = Word("idiot", WatchedWord.Actions.Censor);
        var darn = Word("darn", WatchedWord.Actions.Replace, replacement: "gosh");
        var matcher = Matcher(idiot, darn);
        var text = "you 1d1ot, d a r n it";

        var shown = WatchedWordMatcher.Display(text, matcher.Match(text, "en"), matcher.Entries);

        Assert.Equal("you ■■■■■, gosh it", shown);
        Assert.Equal("you ■ ■ ■ ■ ■", WatchedWordMatcher.Display("you i d i o t", matcher.Match("you i d i o t", "en"), matcher.Entries));
        Assert.Null(WatchedWordMatcher.Display("nothing here", matcher.Match("nothing here", "en"), matcher.Entries));
    }

    [Fact]
    public void A_timed_out_expression_holds_the_text_for_review()
    {
        // A tick is far too short for any scan of a long text: the rule fails closed instead of letting it through.
        var matcher = new WatchedWordMatcher([Regex(@"(a|b|c)*[xyz]{2}(a|b)*q")], TimeSpan.FromTicks(1));
        var text = string.Concat(Enumerable.Repeat("ab ca bc ", 20_000));

        var match = Assert.Single(matcher.Match(text, "en"));

        Assert.Equal(WatchedWord.Actions.RequireApproval, match.Action);
        Assert.Equal("(timed out)", match.Matched);
    }
}
