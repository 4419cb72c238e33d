namespace BirbalAI.Contracts.Ml;

/// <summary>
/// One item's new verdict from a re-scoring run: its id, the overall action under the policy in force, the new scores, the
/// categories not approved (then the watched words that block or hold), the policy version it was judged under, and
/// <see cref="WrittenAt"/> as the owner gave it (a text edited since is left alone). No text.
/// </summary>
public sealed record RevisedVerdict(
    Guid ContentId, string Action, IReadOnlyDictionary<string, float> Scores, IReadOnlyList<string> Flagged, int PolicyVersion, DateTimeOffset WrittenAt);

/// <summary>
/// An Admin applied a batch re-scoring run: the owner of <see cref="Source"/> ("chat.message", "documents.chunk") records the new
/// scores and versions, and holds what is approved and now scores review or reject (raising its usual held event). Nothing is
/// released, approved or rejected by it: what is held or rejected stays so until a person decides. A run's verdicts come in
/// several events (at most Ml:Rescoring:MaxVerdictsPerEvent each).
/// </summary>
[IntegrationEvent("ml.verdicts-revised.v1")]
public sealed record VerdictsRevised(
    Guid RunId, string Source, Guid ModelVersionId, int ModelVersion, IReadOnlyList<RevisedVerdict> Verdicts, DateTimeOffset RevisedAt);
