using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using BirbalAI.Ml.Data;
using BirbalAI.Ml.Encoder;
using BirbalAI.Ml.Ensemble;
using BirbalAI.Ml.Features;
using BirbalAI.Ml.Registry;
using BirbalAI.Ml.Serving;
using BirbalAI.Ml.Text;
using BirbalAI.Ml.Training;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace BirbalAI.Ml.Starter;

/// <summary>
/// The model the product moderates with from its first start: an ensemble (<see cref="EnsembleTraining"/>) of the
/// n-gram classifier and the pretrained sentence encoder with heads, trained on the <see cref="StarterCorpus"/> (90%
/// of its example groups; the other 10% give its metrics, labelled "starter corpus"), cached in a folder named by a
/// hash of the corpus, the encoder and the settings, so it is trained once per change; the corpus's embeddings are
/// cached beside it (embeddings/), so a change of settings alone does not embed again. One thread for the n-gram
/// trainer and a fixed seed: the same model on every machine.
/// </summary>
static class StarterModel
{
    public const string Source = "starter corpus";

    /// <summary>Bump when how the corpus becomes a model changes (not the corpus itself: its hash is in the key).</summary>
    public const string Version = "starter-ensemble-1";
    public static readonly FeaturizerSettings Featurizer = new();
    public static readonly TrainingSettings Training = new(Epochs: 25, Threads: 1, Seed: 7, CalibrationBaseRate: CalibrationBaseRate);
    public static readonly HeadSettings Heads = new(Seed: 7);
    public static readonly EncoderSettings EncoderWindows = EncoderSettings.Default;

    /// <summary>The share of each category the starter model's scores are calibrated for (see <see cref="TrainingSettings.CalibrationBaseRate"/>).</summary>
    public const double CalibrationBaseRate = 0.05;

    /// <summary>The share of the training groups the ensemble's combination is fitted on.</summary>
    public const double ValidationFraction = 0.15;

    /// <summary>The languages the encoder scores (the others are the n-gram model's: see <see cref="EnsembleTraining"/>).</summary>
    public static readonly IReadOnlyList<string> EncoderLanguages = ["en"];

    public static string Key => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(
        Version + StarterCorpus.Hash + Onnx.OnnxExport.FormatVersion + EncoderExport.FormatVersion + EncoderFiles.Hash(EncoderFiles.ModelPath)
        + JsonSerializer.Serialize(Featurizer) + JsonSerializer.Serialize(Training) + JsonSerializer.Serialize(Heads)
        + JsonSerializer.Serialize(EncoderWindows) + ValidationFraction + string.Join(',', EncoderLanguages))))[..16];

    /// <summary>The folder of the starter model under <paramref name="cache"/>, trained now if it is not there.</summary>
    public static string Ensure(string cache, LanguageDetection languages, Action<string>? log = null, CancellationToken ct = default)
    {
        var directory = Path.Combine(Path.GetFullPath(cache), $"starter-{Key}");
        if (File.Exists(Path.Combine(directory, ModelPackage.CardFile))) return directory;
        var sessions = new SessionFactory(Options.Create(new ServingOptions { IntraOpThreads = Math.Max(1, Environment.ProcessorCount) }),
            NullLogger<SessionFactory>.Instance);
        using var encoder = SentenceEncoder.Open(sessions, EncoderWindows);
        var (train, test) = LabelledData.Split([.. StarterCorpus.Examples.Select(e => e.ToLabelled())], 0.1, seed: 7);
        var result = EnsembleTraining.Train(train, Categories.Default, Featurizer, Training, encoder, Heads, EncoderLanguages,
            new EmbeddingCache(Path.Combine(Path.GetFullPath(cache), "embeddings")), ValidationFraction, test, languages, Source, log, ct);
        result.Package.Write(directory);
        return directory;
    }
}

sealed class MlOptions
{
    public const string Section = "Ml";

    /// <summary>A trained model folder (<see cref="ModelPackage"/>: model.json and the files of its kind) registered as the first production version when none exists; `make run` sets it.</summary>
    public string? StarterModelDirectory { get; set; }
}

/// <summary>At start-up, registers and promotes the starter model when the registry is empty.</summary>
sealed class StarterModelRegistration(IOptions<MlOptions> options, ModelRegistry registry, ILogger<StarterModelRegistration> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken ct)
    {
        if (options.Value.StarterModelDirectory is not { Length: > 0 } directory) return;
        if ((await registry.ListAsync(ct)).Count > 0) return;   // the usual case, without reading the model
        if (await registry.RegisterFirstAsync(ModelPackage.Read(directory), ct) is { } version)
            logger.LogInformation("Registered the starter model as v{Number} and made it production", version.Number);
    }

    public Task StopAsync(CancellationToken ct) => Task.CompletedTask;
}
