using System.ComponentModel.DataAnnotations;

namespace BirbalAI.Ml.Serving;

enum ExecutionProvider { Cpu, Cuda }

/// <summary>How live moderation runs (section "Ml:Serving").</summary>
sealed class ServingOptions
{
    public const string Section = "Ml:Serving";

    /// <summary>Cuda tries ONNX Runtime's CUDA provider (needs CUDA 13 and a GPU) and falls back to CPU with one warning.</summary>
    public ExecutionProvider ExecutionProvider { get; set; } = ExecutionProvider.Cpu;

    [Range(0, 64)] public int CudaDeviceId { get; set; }

    /// <summary>ONNX Runtime threads per call; 1 leaves the other cores to the requests being featurised.</summary>
    [Range(1, 64)] public int IntraOpThreads { get; set; } = 1;

    /// <summary>The micro-batcher runs a batch when it holds this many texts…</summary>
    [Range(1, 4096)] public int MaxBatchTexts { get; set; } = 128;

    /// <summary>…or this long after the first text arrived. 0 turns micro-batching off: every request runs alone.</summary>
    [Range(0, 1000)] public int MaxBatchDelayMs { get; set; } = 2;

    /// <summary>Versions kept loaded at once (production plus ones asked for by name); the least recently used go first.</summary>
    [Range(1, 32)] public int MaxLoadedVersions { get; set; } = 3;

    /// <summary>N-grams listed per flagged category.</summary>
    [Range(1, 50)] public int ExplanationSize { get; set; } = 5;
}

/// <summary>What one moderation request may hold (section "Ml:Limits"), for REST, /v1 and gRPC alike.</summary>
sealed class ModerationLimits
{
    public const string Section = "Ml:Limits";

    [Range(1, 1_000_000)] public int MaxInputChars { get; set; } = 20_000;

    [Range(1, 10_000)] public int MaxInputs { get; set; } = 64;

    [Range(1024, 64L * 1024 * 1024)] public long MaxRequestBytes { get; set; } = 512 * 1024;
}
