using BirbalAI.Ml.Text;

namespace BirbalAI.Ml.Tests.Serving;

public sealed class LoadedModelTests
{
    [Fact]
    public void The_explanation_names_the_ngrams_that_raised_the_category()
    {
        var model = ToyModel.Load();
        var (ids, ngrams) = model.Featurizer!.FeaturizeWithNgrams(TextNormalizer.Normalize("Lunch at noon, you CLOWN"));

        var insult = model.Explain(ids, ngrams, 0, top: 5);

        Assert.InRange(insult.Count, 1, 5);
        Assert.Equal("clown", insult[0].Ngram);
        Assert.True(insult.Zip(insult.Skip(1)).All(p => p.First.Weight >= p.Second.Weight), "largest first");
        Assert.All(insult, c => Assert.True(c.Weight > 0));
        model.Release();
    }

    [Fact]
    public void An_explanation_leaves_out_the_function_words_of_the_texts_language()
    {
        var model = ToyModel.Load();
        var (ids, ngrams) = model.Featurizer!.FeaturizeWithNgrams(TextNormalizer.Normalize("you are a clown and you know it, you clown"));

        var unfiltered = model.Explain(ids, ngrams, 0, top: 50);
        var english = model.Explain(ids, ngrams, 0, top: 50, language: "en");

        Assert.Contains(unfiltered, c => c.Ngram is "you" or "you are" or "and");   // the toy model learnt them too
        string[] grammar = ["you", "are", "a", "and", "it", "it,"];
        Assert.DoesNotContain(english, c => c.Ngram.Split(' ').All(grammar.Contains));
        Assert.Equal("clown", english[0].Ngram);
        Assert.Equal(unfiltered.Where(c => !BirbalAI.Ml.Text.FunctionWords.Only(c.Ngram, "en")).Select(c => c.Ngram), english.Select(c => c.Ngram));
        Assert.Equal(unfiltered.Select(c => c.Ngram), model.Explain(ids, ngrams, 0, top: 50, language: "und").Select(c => c.Ngram));
        model.Release();
    }

    [Fact]
    public void A_format_3_graph_explains_as_the_format_4_one_does()
    {
        var current = ToyModel.Load();
        var format3 = BirbalAI.Ml.Onnx.OnnxExport.ToBytes(ToyModel.Linear, combined: false);
        var older = new BirbalAI.Ml.Serving.LoadedModel(ToyModel.Version(), format3, ToyModel.Sessions().Create(format3));
        var (ids, ngrams) = current.Featurizer!.FeaturizeWithNgrams(TextNormalizer.Normalize("watch your back, you clown"));

        for (var category = 0; category < ToyModel.Categories.Length; category++)
        {
            var expected = current.Explain(ids, ngrams, category, top: 5);
            var actual = older.Explain(ids, ngrams, category, top: 5);
            Assert.Equal(expected.Select(c => c.Ngram), actual.Select(c => c.Ngram));
            Assert.Equal(expected.Select(c => c.Weight), actual.Select(c => c.Weight), (a, b) => Math.Abs(a - b) < 1e-5);
        }
        Assert.Equal(older.Score([ids])[0], current.Score([ids])[0], (a, b) => Math.Abs(a - b) < 1e-5);
        current.Release();
        older.Release();
    }

    [Fact]
    public void Featurising_with_ngrams_gives_the_very_ids_serving_uses()
    {
        var model = ToyModel.Load();
        var text = TextNormalizer.Normalize("watch your back, loser");

        var (ids, ngrams) = model.Featurizer!.FeaturizeWithNgrams(text);

        Assert.Equal(model.Featurizer!.Featurize(text), ids);
        Assert.Equal(ids.Length, ngrams.Length);
        Assert.Contains("watch your", ngrams);
        Assert.All(ngrams, n => Assert.Contains(n, text));   // words and phrases of the text; a character n-gram counts for its word
        Assert.Contains("loser", ngrams);
        model.Release();
    }

    [Fact]
    public void The_session_lives_until_the_last_lease_is_released()
    {
        var model = ToyModel.Load();
        Assert.True(model.TryAcquire());       // a request in flight

        model.Release();                        // the catalogue lets go (swapped out)
        Assert.False(model.IsDisposed);
        Assert.NotEmpty(model.Score([model.Featurizer!.Featurize("still works")]));

        model.Release();                        // the request finishes
        Assert.True(model.IsDisposed);
        Assert.False(model.TryAcquire());
    }
}
