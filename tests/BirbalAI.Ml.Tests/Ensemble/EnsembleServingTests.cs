using BirbalAI.Ml.Data;
using BirbalAI.Ml.Ensemble;
using BirbalAI.Ml.Features;
using BirbalAI.Ml.Serving;
using BirbalAI.Ml.Starter;
using BirbalAI.Ml.Tests.Encoder;
using BirbalAI.Ml.Text;
using BirbalAI.Ml.Training;

namespace BirbalAI.Ml.Tests.Ensemble;

/// <summary>
/// A small ensemble (a slice of the starter corpus, the encoder with small windows) trained once, written,
/// read back and served the way the catalogue serves a registered one.
/// </summary>
public sealed class EnsembleServingTests
{
    static readonly Lazy<(ModelPackage Package, LoadedModel Model)> Trained = new(() =>
    {
        var corpus = StarterCorpus.Examples;
        // Every 12th English example (all categories, benign and hard negatives) and every 30th Arabic one.
        var rows = (LabelledText[])[.. corpus.Where(e => e.Language == "en").Where((_, i) => i % 12 == 0).Select(e => e.ToLabelled()),
                                    .. corpus.Where(e => e.Language == "ar").Where((_, i) => i % 30 == 0).Select(e => e.ToLabelled())];
        var result = EnsembleTraining.Train(rows, Categories.Default, new FeaturizerSettings(Buckets: 20_000), new TrainingSettings(Epochs: 8, Threads: 1, Seed: 1, CalibrationBaseRate: 0.05),
            Encoders.SmallWindowEncoder, new Ml.Encoder.HeadSettings(Epochs: 20), ["en"], cache: null, validationFraction: 0.3, test: null, languages: null, source: "test");
        var directory = Path.Combine(Path.GetTempPath(), "birbal-ensemble-" + Guid.NewGuid().ToString("N")[..8]);
        result.Package.Write(directory);
        var package = ModelPackage.Read(directory);
        Directory.Delete(directory, recursive: true);
        return (package, LoadedModel.FromPackage(package, Encoders.Sessions()));
    });

    static LoadedModel Model => Trained.Value.Model;

    [Fact]
    public void The_folder_holds_both_components_and_the_combination()
    {
        var card = Trained.Value.Package.Card;

        Assert.Equal(ModelKinds.Ensemble, card.Kind);
        Assert.Equal([ModelKinds.Ngram, ModelKinds.Encoder], card.Components!.Select(c => c.Kind));
        Assert.Equal(Encoders.Small, card.Components![1].EncoderSettings);
        Assert.Equal(["en"], card.Components![1].Languages);
        Assert.Equal(13, card.Combination!.Categories.Count);
        Assert.False(card.Combination.UsesEncoder("ar"));
        Assert.True(Model.HasNgram && Model.HasEncoder);
    }

    [Fact]
    public void An_english_text_is_scored_by_the_combination_of_both_components()
    {
        var normalized = TextNormalizer.Normalize("you are a disgusting piece of trash and everyone here knows it");
        var prepared = Model.Prepare(normalized, language: "en");

        var components = Model.Score([prepared], 65_536)[0];
        var (scores, drivers) = Model.Combine(components, "en");

        Assert.NotNull(prepared.Tokens);
        Assert.Null(components.Rest);   // one window holds it
        var combination = Trained.Value.Package.Card.Combination!;
        for (var c = 0; c < scores.Length; c++)
        {
            var (expected, ngramPart, encoderPart) = combination.Combine(c, "en", components.Ngram![c], components.Encoder![c]);
            Assert.Equal(expected, scores[c], 6);
            Assert.Equal(encoderPart > ngramPart ? Driver.Encoder : Driver.Ngram, drivers[c]);
        }
        // The n-gram component served is the n-gram model trained: the same scores as the graph alone.
        Assert.Equal(Model.Score([prepared.Features!])[0], components.Ngram!, (a, b) => Math.Abs(a - b) < 1e-6);
    }

    [Fact]
    public void A_text_in_a_language_the_encoder_does_not_read_is_not_encoded_and_keeps_the_n_gram_score()
    {
        var normalized = TextNormalizer.Normalize("والله لو شفتك بالشارع لأكسر راسك");
        var prepared = Model.Prepare(normalized, language: "ar");

        var components = Model.Score([prepared], 65_536)[0];
        var (scores, drivers) = Model.Combine(components, "ar");

        Assert.Null(prepared.Tokens);
        Assert.Null(components.Encoder);
        Assert.Equal(components.Ngram, scores);
        Assert.All(drivers, d => Assert.Equal(Driver.Ngram, d));
    }

    [Fact]
    public void Text_beyond_the_encoders_windows_is_scored_by_the_n_gram_model_alone_and_the_higher_score_stands()
    {
        // Small windows (3 × 16 tokens): the threat at the end lies beyond them.
        var text = string.Join(' ', Enumerable.Repeat("the garden club meets on tuesday and we plant beans.", 8)) + " i will find where you live and kill you";
        var normalized = TextNormalizer.Normalize(text);
        var prepared = Model.Prepare(normalized, language: "en");
        var head = Model.Prepare(normalized, language: "en") with { RestFeatures = null };

        var components = Model.Score([prepared, head], 65_536);
        var (scores, drivers) = Model.Combine(components[0], "en");
        var (withoutRest, _) = Model.Combine(components[1], "en");

        Assert.False(prepared.Tokens!.Coverage.Complete);
        Assert.Equal(Model.Featurizer!.Featurize(normalized[prepared.Tokens.Coverage.CoveredChars..]), prepared.RestFeatures);
        for (var c = 0; c < scores.Length; c++)
        {
            Assert.Equal(Math.Max(withoutRest[c], components[0].Rest![c]), scores[c], 6);
            if (components[0].Rest![c] > withoutRest[c]) Assert.Equal(Driver.Rest, drivers[c]);
        }
        Assert.Contains(Driver.Rest, drivers);   // the tail's threat outscores the garden club somewhere
    }

    [Fact]
    public void Offline_scoring_gives_what_the_served_path_gives()
    {
        string[] texts = ["hello neighbours, the market opens at nine", "شكرا على المساعدة اليوم"];
        string[] languages = ["en", "ar"];

        var offline = Model.ScoreTexts(texts, languages);

        for (var i = 0; i < texts.Length; i++)
        {
            var components = Model.Score([Model.Prepare(TextNormalizer.Normalize(texts[i]), language: languages[i])], 65_536)[0];
            Assert.Equal(Model.Combine(components, languages[i]).Scores, offline[i]);
        }
    }
}
