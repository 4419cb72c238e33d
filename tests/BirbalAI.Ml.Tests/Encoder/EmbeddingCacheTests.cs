using BirbalAI.Ml.Encoder;

namespace BirbalAI.Ml.Tests.Encoder;

public sealed class EmbeddingCacheTests : IDisposable
{
    readonly string directory = Path.Combine(Path.GetTempPath(), "birbal-embeddings-" + Guid.NewGuid().ToString("N"));

    static EncodedTexts Fake(IReadOnlyList<string> texts) => new(
        [.. texts.Select(t => Enumerable.Range(0, SentenceEncoder.Dimensions).Select(i => (float)(t.Length + i)).ToArray())],
        [.. texts.Select(t => new TextCoverage(t.Length, t.Length - 1, t.Length))]);

    [Fact]
    public void A_second_run_on_the_same_texts_and_encoder_reads_the_cache_instead_of_embedding()
    {
        var cache = new EmbeddingCache(directory);
        var calls = 0;
        EncodedTexts Embed(IReadOnlyList<string> t) { calls++; return Fake(t); }
        string[] texts = ["one", "two three", "four"];

        var first = cache.GetOrAdd(texts, "encoder-a", EncoderSettings.Default, Embed);
        var second = cache.GetOrAdd(texts, "encoder-a", EncoderSettings.Default, Embed);

        Assert.Equal(1, calls);
        Assert.Equal(first.Coverage, second.Coverage);
        for (var i = 0; i < texts.Length; i++) Assert.Equal(first.Embeddings[i], second.Embeddings[i]);
        Assert.Single(Directory.GetFiles(directory));
    }

    [Fact]
    public void Other_texts_another_encoder_or_other_windows_embed_again()
    {
        var cache = new EmbeddingCache(directory);
        var calls = 0;
        EncodedTexts Embed(IReadOnlyList<string> t) { calls++; return Fake(t); }

        cache.GetOrAdd(["one", "two"], "encoder-a", EncoderSettings.Default, Embed);
        cache.GetOrAdd(["one", "two!"], "encoder-a", EncoderSettings.Default, Embed);
        cache.GetOrAdd(["onetwo"], "encoder-a", EncoderSettings.Default, Embed);
        cache.GetOrAdd(["one", "two"], "encoder-b", EncoderSettings.Default, Embed);
        cache.GetOrAdd(["one", "two"], "encoder-a", EncoderSettings.Default with { MaxWindows = 2 }, Embed);

        Assert.Equal(5, calls);
        Assert.NotEqual(EmbeddingCache.Key(["one", "two"], "a", EncoderSettings.Default), EmbeddingCache.Key(["onetwo"], "a", EncoderSettings.Default));
        Assert.NotEqual(EmbeddingCache.Key(["one", "two"], "a", EncoderSettings.Default), EmbeddingCache.Key(["on", "etwo"], "a", EncoderSettings.Default));
    }

    [Fact]
    public void A_truncated_cache_file_is_embedded_again()
    {
        var cache = new EmbeddingCache(directory);
        var calls = 0;
        EncodedTexts Embed(IReadOnlyList<string> t) { calls++; return Fake(t); }
        cache.GetOrAdd(["one"], "e", EncoderSettings.Default, Embed);
        var file = Assert.Single(Directory.GetFiles(directory));
        File.WriteAllBytes(file, File.ReadAllBytes(file)[..100]);

        cache.GetOrAdd(["one"], "e", EncoderSettings.Default, Embed);

        Assert.Equal(2, calls);
    }

    public void Dispose()
    {
        if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
    }
}
