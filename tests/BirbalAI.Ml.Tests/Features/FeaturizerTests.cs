using BirbalAI.Ml.Features;

namespace BirbalAI.Ml.Tests.Features;

public sealed class FeaturizerTests
{
    static readonly Featurizer Default = new(new FeaturizerSettings());

    [Fact]
    public void The_same_text_always_gives_the_same_ids_within_the_buckets()
    {
        var ids = Default.Featurize("you are a clown");

        Assert.Equal(ids, new Featurizer(new FeaturizerSettings()).Featurize("you are a clown"));
        Assert.All(ids, id => Assert.InRange(id, 0, 199_999));
    }

    [Fact]
    public void Words_character_ngrams_and_word_pairs_are_all_there()
    {
        // "ab": the word, "<a" "ab" "b>" "<ab" "ab>" (2–5-grams of "<ab>" but the whole), no pair.
        Assert.Equal(6, Default.Featurize("ab").Length);
        // two words: 2 words + 2×5 n-grams + 1 pair
        Assert.Equal(13, Default.Featurize("ab cd").Length);
        Assert.Equal(12, new Featurizer(new FeaturizerSettings(WordNgrams: 1)).Featurize("ab cd").Length);
    }

    [Fact]
    public void Word_order_matters_only_through_word_ngrams()
    {
        var unigrams = new Featurizer(new FeaturizerSettings(WordNgrams: 1));
        Assert.Equal(unigrams.Featurize("dog bites man").Order(), unigrams.Featurize("man bites dog").Order());
        Assert.NotEqual(Default.Featurize("dog bites man").Order(), Default.Featurize("man bites dog").Order());
    }

    [Fact]
    public void Empty_text_still_has_one_feature() => Assert.Single(Default.Featurize(""));

    [Theory]
    [InlineData(0, 5, 2, 1000)]
    [InlineData(3, 2, 2, 1000)]
    [InlineData(2, 5, 0, 1000)]
    [InlineData(2, 5, 2, 10)]
    public void Impossible_settings_are_refused(int minN, int maxN, int wordNgrams, int buckets) =>
        Assert.Throws<ArgumentException>(() => new FeaturizerSettings(minN, maxN, wordNgrams, buckets).Validate());

    [Theory]
    [InlineData("Our allotment group meets on Saturdays; bring gloves, seedlings and a flask of tea. Last week we rebuilt the compost bays and argued about tomatoes. ")]
    [InlineData("Die Gemeinschaftsgartengruppe trifft sich samstags, Arbeitshandschuhe und Thermoskanne mitbringen; letzte Woche Kompostbehälter erneuert. ")]
    [InlineData("el grupo del huerto se junta los sábados, traed guantes y semillas jaja la semana pasada arreglamos el compost y discutimos por los tomates ")]
    public void A_long_ordinary_post_stays_well_within_the_default_feature_limit(string paragraph)
    {
        var post = string.Concat(Enumerable.Repeat(paragraph, 20_000 / paragraph.Length + 1))[..20_000];

        var features = Default.Featurize(BirbalAI.Ml.Text.TextNormalizer.Normalize(post)).Length;

        // Ml:Limits:MaxFeaturesPerText (120,000) leaves room above the longest ordinary input (Ml:Limits:MaxInputChars, 20,000).
        Assert.InRange(features, 40_000, 100_000);
    }
}
