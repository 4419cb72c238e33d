using BirbalAI.Ml.Serving;
using Microsoft.Extensions.Logging;

namespace BirbalAI.Ml.Tests.Serving;

public sealed class SessionFactoryTests
{
    [Fact]
    public void Cuda_that_cannot_load_falls_back_to_the_cpu_with_one_warning_for_the_whole_process()
    {
        // No machine of ours has CUDA 13 and a GPU: the provider fails to load, every session still works.
        var logger = new RecordingLogger<SessionFactory>();
        var sessions = ToyModel.Sessions(new ServingOptions { ExecutionProvider = ExecutionProvider.Cuda }, logger);

        using var first = sessions.Create(ToyModel.Onnx);
        using var second = sessions.Create(ToyModel.Onnx);

        Assert.Equal("CPU", sessions.LastProvider);
        var warning = Assert.Single(logger.Entries, e => e.Level >= LogLevel.Warning);
        Assert.Contains("CUDA provider cannot load", warning.Message);
        Assert.Contains("run on the CPU", warning.Message);
    }

    [Fact]
    public void Cpu_as_configured_logs_nothing()
    {
        var logger = new RecordingLogger<SessionFactory>();
        using var session = ToyModel.Sessions(new ServingOptions(), logger).Create(ToyModel.Onnx);

        Assert.Empty(logger.Entries);
    }

    [Fact]
    public void A_model_on_the_cuda_fallback_scores_as_the_trained_model_does()
    {
        var model = new LoadedModel(ToyModel.Version(), ToyModel.Onnx,
            ToyModel.Sessions(new ServingOptions { ExecutionProvider = ExecutionProvider.Cuda }).Create(ToyModel.Onnx));
        var ids = model.Featurizer!.Featurize("nice weather idiot");

        var served = model.Score([ids])[0];

        Assert.Equal(ToyModel.Linear.Predict(ids), served, (a, b) => Math.Abs(a - b) < 1e-5);
        model.Release();
    }
}
