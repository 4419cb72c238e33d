namespace BirbalAI.Ml.Encoder;

/// <summary>
/// How texts become encoder windows and calls. A text longer than one window is cut into at most
/// <see cref="MaxWindows"/> windows of <see cref="WindowTokens"/> tokens ([CLS] … [SEP]) whose embeddings are
/// averaged; what lies beyond is reported (<see cref="TextCoverage"/>) for the n-gram model to carry.
/// </summary>
sealed record EncoderSettings(int MaxWindows = 4, int WindowTokens = 128, int MaxBatchTokens = 8_192, int MaxBatchWindows = 64)
{
    public static readonly EncoderSettings Default = new();

    /// <summary>Word pieces a window holds besides [CLS] and [SEP].</summary>
    public int WindowPieces => WindowTokens - 2;

    public void Validate()
    {
        if (MaxWindows is < 1 or > 64) throw new ArgumentException($"max windows: 1 to 64, not {MaxWindows}");
        // all-MiniLM-L6-v2 has 512 positions and was trained at 256.
        if (WindowTokens is < 8 or > 512) throw new ArgumentException($"window tokens: 8 to 512, not {WindowTokens}");
        if (MaxBatchTokens < WindowTokens) throw new ArgumentException($"max batch tokens: at least a window ({WindowTokens}), not {MaxBatchTokens}");
        if (MaxBatchWindows is < 1 or > 4096) throw new ArgumentException($"max batch windows: 1 to 4096, not {MaxBatchWindows}");
    }
}
