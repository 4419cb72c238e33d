namespace BirbalAI.Ml.Encoder;

/// <summary>
/// Cuts tokenised texts into ONNX Runtime calls. A call is padded to its longest window, so texts are sorted by
/// their longest window and a call holds whole texts while windows × longest stays within
/// <see cref="EncoderSettings.MaxBatchTokens"/> (and at most <see cref="EncoderSettings.MaxBatchWindows"/> windows):
/// the padded batch, and so the call's memory, is bounded whatever the mix. A text is never split over two calls.
/// </summary>
static class EncoderBatches
{
    public static IEnumerable<int[]> Plan(IReadOnlyList<TokenizedText> texts, EncoderSettings settings)
    {
        var order = Enumerable.Range(0, texts.Count).OrderBy(i => texts[i].LongestWindow).ThenBy(i => i).ToArray();
        var batch = new List<int>();
        var windows = 0;
        foreach (var i in order)
        {
            var text = texts[i];
            var longest = text.LongestWindow;   // ascending: the newcomer is the batch's longest
            if (batch.Count > 0 && ((long)(windows + text.Windows.Count) * longest > settings.MaxBatchTokens
                                    || windows + text.Windows.Count > settings.MaxBatchWindows))
            {
                yield return [.. batch];
                batch.Clear();
                windows = 0;
            }
            batch.Add(i);
            windows += text.Windows.Count;
        }
        if (batch.Count > 0) yield return [.. batch];
    }

    /// <summary>The windows of these texts padded into [windows × length] input_ids, attention_mask and token_type_ids (zeros).</summary>
    public static Packed Pack(IReadOnlyList<TokenizedText> texts)
    {
        var windows = texts.Sum(t => t.Windows.Count);
        var length = texts.Max(t => t.LongestWindow);
        var ids = new long[windows * length];
        var mask = new long[windows * length];
        var row = 0;
        foreach (var text in texts)
            foreach (var window in text.Windows)
            {
                window.CopyTo(ids.AsSpan(row * length));
                mask.AsSpan(row * length, window.Length).Fill(1);
                row++;
            }
        return new Packed(ids, mask, new long[windows * length], windows, length);
    }

    public sealed record Packed(long[] InputIds, long[] AttentionMask, long[] TokenTypeIds, int Windows, int Length);
}
