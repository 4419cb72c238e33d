using BirbalAI.IntegrationTests.Hosting;
using BirbalAI.Ml.Starter;
using BirbalAI.Ml.Text;

namespace BirbalAI.IntegrationTests;

/// <summary>The starter model for tests that moderate: from the cache `make test` fills, trained once here when it is empty.</summary>
public static class StarterModels
{
    static readonly Lazy<string> Cached = new(() => StarterModel.Ensure(Path.Combine(AppProcess.RepoRoot, ".local", "models"), new LanguageDetection()));

    public static string Directory => Cached.Value;

    /// <summary>Registers the starter model as v1 production when <paramref name="app"/> starts.</summary>
    public static App WithStarterModel(this App app) => (App)app.With("Ml:StarterModelDirectory", Directory);

    // Texts the starter model is sure about (trained on their kind): one clean, one it rejects.
    public const string Clean = "Thanks for the help with the garden today, see you at the market on Saturday";
    public const string Threat = "I will find where you live and I will kill you";
}
