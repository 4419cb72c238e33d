using System.Security.Cryptography;
using System.Text;
using BirbalAI.Ml.Data;
using BirbalAI.Ml.Features;
using BirbalAI.Ml.Training;

namespace BirbalAI.IntegrationTests;

/// <summary>
/// A small model the tests train themselves, for tests that only need "a clean text" and "a toxic text": it is
/// sure about <see cref="Clean"/>-like everyday lines and <see cref="Threat"/>-like threats, whatever the
/// starter model learns, so improving the product's model never breaks them. Trained once per change of
/// these lines (one thread, fixed seed), cached beside the starter model.
/// </summary>
public static class FixtureModel
{
    public const string Clean = "Thanks for the help with the garden today, see you at the market on Saturday";
    public const string Threat = "I will find where you live and I will kill you";

    static readonly string[] Threats =
    [
        Threat, "i will find you and kill you", "I know where you live and I will hurt you", "you are dead, I will find you tonight",
        "I will kill you and your family", "watch your back, I will find where you live", "I am going to hurt you badly when I find you",
        "next time I see you I will kill you", "I will come to your house and kill you", "I will find where you work and hurt you",
        "you will not live to see tomorrow, I will find you", "I will beat you until you stop breathing", "I will find you and make you bleed",
        "I swear I will kill you if you post that again", "I'll find your address and end you",
    ];

    static readonly string[] Everyday =
    [
        Clean, "hello", "hi", "hello everyone", "good morning all", "thanks a lot", "see you tomorrow", "lunch at noon?", "mine now", "again",
        "the garden looks lovely this week", "can someone share the market times for Saturday", "thanks for the help with the boxes",
        "see you at the market", "the weather is nice today", "what time is the meeting", "I baked bread this morning", "great match yesterday",
        "does anyone have a spare ladder", "the bus was late again", "happy birthday Sam", "we planted tomatoes and beans", "a short friendly line",
        "who is bringing snacks on Friday", "the library opens at nine", "my cat slept all day", "new photos from the trip are up",
        "how do I reset the router", "the soup recipe is in the group chat", "shall we meet at the park", "good night everyone",
        "thanks for organising the market", "I will bring the chairs", "I found your keys by the door", "where do you live these days, still near the park?",
        "see you later", "see you soon", "thank you", "thank you so much", "love you all", "are you coming tonight", "did you see the game",
        "you are welcome", "I will see you at the market", "I will bring you the chairs", "where do you live now", "I will find the recipe for you",
        "hello all", "and another", "one too many", "rewritten after I was removed", "rewritten in the archive", "from a script", "good morning",
        "**bold** and _italic_ text", "the book club meets on Tuesday", "welcome to the porch", "I will call you tomorrow", "you will love this cake",
        "I will find a seat for you", "will you live stream the match", "this is a message", "first message", "second message", "third message",
    ];

    // A clean line and a threat in one text is a threat: the model must not average a threat away.
    static readonly string[] Mixed = [.. Everyday.Take(12).Select((e, i) => $"{e} {Threats[i % Threats.Length]}")];

    static readonly IReadOnlyList<LabelledText> Rows =
    [
        .. Threats.Select((t, i) => new LabelledText(t, ["harassment", "harassment/threatening", "violence"], $"threat-{i}", "en")),
        .. Everyday.Select((t, i) => new LabelledText(t, [], $"clean-{i}", "en")),
        .. Mixed.Select((t, i) => new LabelledText(t, ["harassment", "harassment/threatening", "violence"], $"mixed-{i}", "en")),
    ];

    static readonly FeaturizerSettings Featurizer = new(Buckets: 20_000);
    static readonly TrainingSettings Training = new(Epochs: 60, Threads: 1, Seed: 3);

    static readonly Lazy<string> Trained = new(() =>
    {
        var key = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\n', Rows.Select(r => r.Text + "|" + string.Join(',', r.Labels)))
            + Featurizer + Training + BirbalAI.Ml.Onnx.OnnxExport.FormatVersion)))[..12];
        var directory = Path.Combine(Hosting.AppProcess.RepoRoot, ".local", "models", $"fixture-{key}");
        if (File.Exists(Path.Combine(directory, "model.json"))) return directory;
        var result = ModelTraining.Train(Rows, BirbalAI.Ml.Categories.Default, Featurizer, Training, validationFraction: 0, source: "test fixture");
        ModelTraining.Write(result, directory);
        return directory;
    });

    /// <summary>The fixture model's folder (model.onnx + model.json), trained now if it is not cached.</summary>
    public static string Directory => Trained.Value;
}
