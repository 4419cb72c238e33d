using System.ComponentModel.DataAnnotations;

namespace BirbalAI.Ml.Datasets;

/// <summary>Datasets' settings and limits (section "Ml:Datasets"), checked at start-up.</summary>
sealed class DatasetOptions : IValidatableObject
{
    public const string Section = "Ml:Datasets";

    /// <summary>Share of each category × language stratum a snapshot assigns to validation.</summary>
    [Range(0.0, 0.5)] public double ValidationShare { get; set; } = 0.1;

    /// <summary>Share of each category × language stratum a snapshot assigns to test.</summary>
    [Range(0.01, 0.5)] public double TestShare { get; set; } = 0.1;

    /// <summary>Examples one snapshot may hold (it is built in memory).</summary>
    [Range(1, 10_000_000)] public int MaxSnapshotExamples { get; set; } = 2_000_000;

    /// <summary>Rows one import through the API may have (the body is also capped by Api:MaxRequestBodyBytes); `ml import` has no row limit.</summary>
    [Range(1, 10_000_000)] public int MaxImportRows { get; set; } = 100_000;

    /// <summary>Days an example is kept after it was labelled; 0 keeps every example. Never deletes one a registered version was trained on.</summary>
    [Range(0, 36_500)] public int RetentionDays { get; set; }

    /// <summary>Recent examples the dataset page lists.</summary>
    [Range(0, 500)] public int RecentExamples { get; set; } = 20;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (ValidationShare + TestShare > 0.8)
            yield return new ValidationResult("ValidationShare + TestShare must leave at least 20% for training", [nameof(TestShare)]);
    }
}
