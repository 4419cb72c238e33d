using BirbalAI.Ml.Text;

namespace BirbalAI.Ml.Tests.Text;

public sealed class TextNormalizerTests
{
    [Theory]
    [InlineData("Hello   World", "hello world")]
    [InlineData("ＦＵＬＬＷＩＤＴＨ", "fullwidth")]                 // NFKC
    [InlineData("ﬁne", "fine")]                                  // ligature
    [InlineData("h\u200Bate", "hate")]                           // zero-width space
    [InlineData("h4te", "hate")]
    [InlineData("$hit", "shit")]
    [InlineData("l00ser", "looser")]
    [InlineData("haaaaate", "haate")]
    [InlineData("h a t e you", "hate you")]
    [InlineData("h.a.t.e", "hate")]
    [InlineData("hаte", "hate")]                                 // Cyrillic а inside a Latin word
    [InlineData("I  \t hate\nMondays", "i hate mondays")]
    public void Obfuscations_fold_back(string text, string expected) => Assert.Equal(expected, TextNormalizer.Normalize(text));

    [Theory]
    [InlineData("born in 2024", "born in 2024")]                 // numbers stay numbers
    [InlineData("costs $5 now", "costs $5 now")]
    [InlineData("covid19 news", "covid19 news")]
    [InlineData("привет мир", "привет мир")]                     // a Russian word stays Russian
    [InlineData("a b", "a b")]                                   // two single letters are not a spelled word
    [InlineData("good", "good")]                                 // doubled letters stay
    public void Ordinary_text_is_left_alone(string text, string expected) => Assert.Equal(expected, TextNormalizer.Normalize(text));

    [Fact]
    public void Arabic_keeps_its_letters_and_loses_tatweel_and_short_vowels() =>
        Assert.Equal("كتب", TextNormalizer.Normalize("كَتَـــبَ"));

    [Fact]
    public void Devanagari_is_kept() => Assert.Equal("नमस्ते दोस्त", TextNormalizer.Normalize("नमस्ते  दोस्त"));

    [Fact]
    public void Empty_and_whitespace_give_empty() => Assert.Equal("", TextNormalizer.Normalize(" \u200B \t "));
}
