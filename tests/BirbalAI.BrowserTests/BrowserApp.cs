using BirbalAI.Testing;

namespace BirbalAI.BrowserTests;

/// <summary>The whole app on a real loopback socket, and Debian's chromium to look at it.</summary>
public sealed class BrowserApp : IAsyncLifetime
{
    public BirbalApp<Program> App { get; } = new();
    public Browser Browser { get; } = new();
    public Uri Address { get; private set; } = null!;

    /// <summary>The starter model the app runs with (a replica needs the same setting).</summary>
    public string StarterModelDirectory { get; private set; } = null!;

    /// <summary>Screenshots land here for a person to look at (git-ignored).</summary>
    public static string ScreenshotDirectory
    {
        get
        {
            var directory = new DirectoryInfo(AppContext.BaseDirectory);
            while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "BirbalAI.sln"))) directory = directory.Parent;
            var path = Path.Combine(directory!.FullName, ".local", "test", "screenshots");
            Directory.CreateDirectory(path);
            return path;
        }
    }

    public async ValueTask InitializeAsync()
    {
        await App.InitializeAsync();
        // The product as `make run` starts it: with the starter model (cached by `make test`).
        var models = Path.Combine(Path.GetDirectoryName(ScreenshotDirectory)!, "..", "models");
        StarterModelDirectory = BirbalAI.Ml.Starter.StarterModel.Ensure(models, new BirbalAI.Ml.Text.LanguageDetection());
        App.With("Ml:StarterModelDirectory", StarterModelDirectory);
        Address = App.StartOnSocket();
        await Browser.InitializeAsync();
    }

    /// <summary>Another instance of <see cref="App"/>'s deployment (same database, broker and Redis prefixes), in memory, not started yet.</summary>
    public BirbalApp<Program> Replica() => new ReplicaApp(App).With("Ml:StarterModelDirectory", StarterModelDirectory);

    sealed class ReplicaApp(BirbalApp<Program> primary) : BirbalApp<Program>(primary);

    public async ValueTask DisposeAsync()
    {
        await Browser.DisposeAsync();
        await App.DisposeAsync();
    }
}
