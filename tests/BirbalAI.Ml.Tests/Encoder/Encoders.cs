using BirbalAI.Ml.Encoder;
using BirbalAI.Ml.Serving;
using BirbalAI.Ml.Tests.Serving;

namespace BirbalAI.Ml.Tests.Encoder;

/// <summary>The pretrained encoder of the build output, loaded once for all encoder tests (a session costs a second or two).</summary>
static class Encoders
{
    /// <summary>Small windows, so that a few sentences already make a text of several windows.</summary>
    public static readonly EncoderSettings Small = new(MaxWindows: 3, WindowTokens: 16, MaxBatchTokens: 256);

    static readonly Lazy<SentenceEncoder> Default = new(() => SentenceEncoder.Open(Sessions(), EncoderSettings.Default));
    static readonly Lazy<SentenceEncoder> SmallWindows = new(() => SentenceEncoder.Open(Sessions(), Small));

    public static SentenceEncoder Encoder => Default.Value;
    public static SentenceEncoder SmallWindowEncoder => SmallWindows.Value;

    public static SessionFactory Sessions(ServingOptions? options = null) => ToyModel.Sessions(options ?? new ServingOptions { IntraOpThreads = 2 });

    static readonly Lazy<string[]> Lines = new(() => File.ReadAllLines(EncoderFiles.VocabularyPath));

    /// <summary>A token's id as vocab.txt gives it: its line number, from 0.</summary>
    public static long Id(string token)
    {
        var id = Array.IndexOf(Lines.Value, token);
        Assert.True(id >= 0, $"{token} is not in vocab.txt");
        return id;
    }

    public static string Token(long id) => Lines.Value[id];
}
