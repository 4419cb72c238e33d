using System.ComponentModel.DataAnnotations;

namespace BirbalAI.Ml.ActiveLearning;

/// <summary>Active learning's settings (section "Ml:ActiveLearning"), checked at start-up.</summary>
sealed class ActiveLearningOptions
{
    public const string Section = "Ml:ActiveLearning";

    /// <summary>Whether a finished training job proposes tasks at all.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Tasks one run proposes at most (0: none).</summary>
    [Range(0, 1_000)] public int Budget { get; set; } = 50;

    /// <summary>Stored items a run scores at most to choose from, split between the sources (each read in id order within the window).</summary>
    [Range(1, 100_000)] public int CandidateLimit { get; set; } = 2_000;

    /// <summary>Only content written in the last so many days is a candidate.</summary>
    [Range(1, 365)] public int Days { get; set; } = 30;

    /// <summary>Two candidates whose word sets overlap this much (Jaccard) are near-duplicates: only the first is proposed.</summary>
    [Range(0.1, 1.0)] public double NearDuplicateSimilarity { get; set; } = 0.8;
}
