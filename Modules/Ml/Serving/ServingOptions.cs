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

    /// <summary>Off: every request runs alone on its own thread (for comparison; the benchmark measures both).</summary>
    public bool MicroBatching { get; set; } = true;

    /// <summary>Batches that may run at once (each on its own thread, with <see cref="IntraOpThreads"/> threads of its own).</summary>
    [Range(1, 64)] public int BatchRunners { get; set; } = 2;

    /// <summary>A batch holds at most this many texts.</summary>
    [Range(1, 4096)] public int MaxBatchTexts { get; set; } = 256;

    /// <summary>
    /// The token budget of one ONNX Runtime call: texts × the longest text's feature count (a batch is padded to
    /// its longest text, and its working memory grows with that product). Texts are sorted by length and cut into
    /// calls within the budget, so one long text never inflates a batch of short ones; a text longer than the
    /// budget is scored alone.
    /// </summary>
    [Range(1024, 16_777_216)] public int MaxBatchFeatures { get; set; } = 65_536;

    /// <summary>
    /// How long a batch may wait for more texts after its first one arrived. 0 (the default) never waits: the
    /// batcher takes whatever is queued the moment it is free, so requests that arrive while a batch runs form
    /// the next one. Under load batches grow by themselves; at low load nothing is delayed.
    /// </summary>
    [Range(0, 1000)] public int MaxBatchDelayMs { get; set; }

    /// <summary>Versions kept loaded at once (production plus ones asked for by name); the least recently used go first.</summary>
    [Range(1, 32)] public int MaxLoadedVersions { get; set; } = 3;

    /// <summary>Builds the language detector at start-up rather than on the first request, then compacts the heap.</summary>
    public bool WarmUp { get; set; } = true;

    /// <summary>
    /// Encoder windows (of the model's window size, 128 tokens for the starter) a text is read in at most; what lies
    /// beyond is scored by the n-gram model alone. Lower than the model was trained with reads less of long texts.
    /// </summary>
    [Range(1, 64)] public int MaxEncoderWindows { get; set; } = 4;

    /// <summary>
    /// The token budget of one encoder call (windows × the longest window): its working memory grows with it (about
    /// 20 KiB of attention and activations per token on the starter's encoder), so it bounds what a burst of long
    /// texts can take. Short texts still batch: 64 chat lines of 30 tokens fit in one call.
    /// </summary>
    [Range(128, 1_048_576)] public int MaxEncoderBatchTokens { get; set; } = 2_048;

    /// <summary>
    /// Native blocks of this many bytes or more are mapped on their own and returned to the system when freed (glibc's
    /// <c>M_MMAP_THRESHOLD</c>, set before the first ONNX Runtime session); 0 leaves glibc's own, growing threshold,
    /// under which ONNX Runtime's activation buffers stay resident after a burst of long texts (see <see cref="NativeHeap"/>).
    /// </summary>
    [Range(0, 33_554_432)] public int NativeMmapThresholdBytes { get; set; } = 1_048_576;

    /// <summary>N-grams listed per flagged category.</summary>
    [Range(1, 50)] public int ExplanationSize { get; set; } = 5;
}

/// <summary>What one moderation request may hold (section "Ml:Limits"), for REST, /v1 and gRPC alike.</summary>
sealed class ModerationLimits
{
    public const string Section = "Ml:Limits";

    [Range(1, 1_000_000)] public int MaxInputChars { get; set; } = 20_000;

    /// <summary>
    /// Characters a text may have after normalisation (NFKC expands some characters: U+FDFA becomes 18). Checked
    /// by the moderator for every caller; a longer text is refused, never cut (what follows the cut would go unseen).
    /// </summary>
    [Range(1, 4_000_000)] public int MaxNormalizedChars { get; set; } = 40_000;

    /// <summary>Feature ids a text may produce (about four per character of ordinary text); more is refused like above.</summary>
    [Range(1, 16_000_000)] public int MaxFeaturesPerText { get; set; } = 120_000;

    [Range(1, 10_000)] public int MaxInputs { get; set; } = 64;

    [Range(1024, 64L * 1024 * 1024)] public long MaxRequestBytes { get; set; } = 512 * 1024;
}
