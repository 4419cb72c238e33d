using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.ML.OnnxRuntime;
using OrtSessionOptions = Microsoft.ML.OnnxRuntime.SessionOptions;

namespace BirbalAI.Ml.Serving;

/// <summary>
/// Makes ONNX Runtime sessions on the configured execution provider. CUDA, when configured, is tried for
/// every session; when it cannot load (no GPU, no CUDA 13 libraries) the session runs on CPU and the
/// process logs one warning, not one per model version.
/// </summary>
sealed class SessionFactory(IOptions<ServingOptions> options, ILogger<SessionFactory> logger)
{
    int warned;

    /// <summary>The provider the last session got: "CUDA" or "CPU".</summary>
    public string LastProvider { get; private set; } = "CPU";

    public InferenceSession Create(byte[] model)
    {
        var settings = options.Value;
        NativeHeap.SetMmapThreshold(settings.NativeMmapThresholdBytes);
        using var session = new OrtSessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            IntraOpNumThreads = settings.IntraOpThreads,
            InterOpNumThreads = 1,
            // Batches are small and shaped differently each time: an arena would keep its largest ever allocation.
            EnableCpuMemArena = false,
        };
        LastProvider = "CPU";
        if (settings.ExecutionProvider == ExecutionProvider.Cuda)
        {
            try
            {
                session.AppendExecutionProvider_CUDA(settings.CudaDeviceId);
                LastProvider = "CUDA";
            }
            catch (OnnxRuntimeException e)
            {
                if (Interlocked.Exchange(ref warned, 1) == 0)
                    logger.LogWarning("Ml:Serving:ExecutionProvider is Cuda but the CUDA provider cannot load ({Reason}); models run on the CPU",
                        e.Message.Split('\n')[0]);
            }
        }
        return new InferenceSession(model, session);
    }
}
