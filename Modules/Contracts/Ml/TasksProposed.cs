namespace BirbalAI.Contracts.Ml;

/// <summary>
/// One item active learning asks a person to label: where it lives, its text and language as the owner stored them, the new
/// version's scores, and why it was chosen (the category whose score is nearest its policy threshold).
/// </summary>
public sealed record ProposedTask(
    string Source, Guid ContentId, string Text, string Language, IReadOnlyDictionary<string, float> Scores, string Category, float Score, float Threshold);

/// <summary>
/// After a training job registered <see cref="ModelVersion"/>, Ml chose the stored items it is least sure about (scores nearest
/// the policy thresholds, spread across languages and categories, no near-duplicates, none labelled yet), at most
/// Ml:ActiveLearning:Budget per run. Annotation makes each a task in its "Active learning" labelling project, once per item.
/// The text travels because the task needs it (as <c>annotation.label-accepted.v1</c>'s does); the README says so.
/// </summary>
[IntegrationEvent("ml.tasks-proposed.v1")]
public sealed record TasksProposed(Guid ModelVersionId, int ModelVersion, IReadOnlyList<ProposedTask> Tasks, DateTimeOffset ProposedAt);
