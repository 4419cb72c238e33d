using BirbalAI.Ml.Features;
using BirbalAI.Ml.Onnx;
using BirbalAI.Ml.Registry;
using BirbalAI.Ml.Serving;
using BirbalAI.Ml.Tests.Training;
using BirbalAI.Ml.Training;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace BirbalAI.Ml.Tests.Serving;

/// <summary>The toy insult/threat model of the trainer tests, trained once and served the way production models are.</summary>
static class ToyModel
{
    public static readonly string[] Categories = ["insult", "threat"];
    static readonly FeaturizerSettings Settings = new(Buckets: 20_000);

    static readonly Lazy<(LinearModel Model, byte[] Onnx)> Trained = new(() =>
    {
        var rows = ModelTraining.Featurize(TrainerTests.Toy(2000, 1), Categories, new Featurizer(Settings));
        var (model, _) = new Trainer(new TrainingSettings(Epochs: 10, Threads: 1)).Train(Settings, Categories, rows);
        return (model, OnnxExport.ToBytes(model));
    });

    public static LinearModel Linear => Trained.Value.Model;
    public static byte[] Onnx => Trained.Value.Onnx;

    public static ModelVersion Version(int number = 1) => new()
    {
        Id = Guid.CreateVersion7(), Number = number, Categories = Categories, Thresholds = [0.5f, 0.5f],
        Featurizer = System.Text.Json.JsonSerializer.Serialize(Settings, ModelTraining.Json), Source = "toy",
    };

    public static LoadedModel Load(ServingOptions? options = null, ILogger<SessionFactory>? logger = null) =>
        new(Version(), Onnx, Sessions(options, logger).Create(Onnx));

    public static SessionFactory Sessions(ServingOptions? options = null, ILogger<SessionFactory>? logger = null) =>
        new(Options.Create(options ?? new ServingOptions()), logger ?? NullLogger<SessionFactory>.Instance);
}

/// <summary>Keeps what is logged, to assert on warnings.</summary>
sealed class RecordingLogger<T> : ILogger<T>
{
    public List<(LogLevel Level, string Message)> Entries { get; } = [];

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (Entries) Entries.Add((logLevel, formatter(state, exception)));
    }
}
