using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using BirbalAI.Ml.Data;
using BirbalAI.Ml.Features;
using BirbalAI.Ml.Registry;
using BirbalAI.Ml.Text;
using BirbalAI.Ml.Training;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace BirbalAI.Ml.Starter;

/// <summary>
/// The model the product moderates with from its first start: trained on the <see cref="StarterCorpus"/> (90% of
/// its example groups; the other 10% give its metrics, labelled "starter corpus"), cached in a folder named by
/// a hash of the corpus and the settings, so it is trained once per change. One thread and a fixed seed: the
/// same model on every machine.
/// </summary>
static class StarterModel
{
    public const string Source = "starter corpus";

    /// <summary>Bump when how the corpus becomes a model changes (not the corpus itself: its hash is in the key).</summary>
    public const string Version = "starter-corpus-1";
    public static readonly FeaturizerSettings Featurizer = new();
    public static readonly TrainingSettings Training = new(Epochs: 25, Threads: 1, Seed: 7, CalibrationBaseRate: CalibrationBaseRate);

    /// <summary>The share of each category the starter model's scores are calibrated for (see <see cref="TrainingSettings.CalibrationBaseRate"/>).</summary>
    public const double CalibrationBaseRate = 0.05;

    public static string Key => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(
        Version + StarterCorpus.Hash + Onnx.OnnxExport.FormatVersion + JsonSerializer.Serialize(Featurizer) + JsonSerializer.Serialize(Training))))[..16];

    /// <summary>The folder of the starter model under <paramref name="cache"/>, trained now if it is not there.</summary>
    public static string Ensure(string cache, LanguageDetection languages, CancellationToken ct = default)
    {
        var directory = Path.Combine(Path.GetFullPath(cache), $"starter-{Key}");
        if (File.Exists(Path.Combine(directory, "model.json"))) return directory;
        var (train, test) = LabelledData.Split([.. StarterCorpus.Examples.Select(e => e.ToLabelled())], 0.1, seed: 7);
        var result = ModelTraining.Train(train, Categories.Default, Featurizer, Training, 0.1, test, languages, Source, ct);
        ModelTraining.Write(result, directory);
        return directory;
    }
}

sealed class MlOptions
{
    public const string Section = "Ml";

    /// <summary>A trained model folder (model.onnx + model.json) registered as the first production version when none exists; `make run` sets it.</summary>
    public string? StarterModelDirectory { get; set; }
}

/// <summary>At start-up, registers and promotes the starter model when the registry is empty.</summary>
sealed class StarterModelRegistration(IOptions<MlOptions> options, ModelRegistry registry, ILogger<StarterModelRegistration> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken ct)
    {
        if (options.Value.StarterModelDirectory is not { Length: > 0 } directory) return;
        if ((await registry.ListAsync(ct)).Count > 0) return;   // the usual case, without reading the model
        var (onnx, card) = ModelTraining.Read(directory);
        if (await registry.RegisterFirstAsync(onnx, card, ct) is { } version)
            logger.LogInformation("Registered the starter model as v{Number} and made it production", version.Number);
    }

    public Task StopAsync(CancellationToken ct) => Task.CompletedTask;
}
