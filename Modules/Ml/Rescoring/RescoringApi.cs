using System.Security.Claims;
using BirbalAI.Contracts.Identity;
using BirbalAI.Ml.Policy;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace BirbalAI.Ml.Rescoring;

/// <summary>/api/ml/rescoring-runs (Admins): start a run (version, sources), follow it with its summary, cancel it, apply it.</summary>
static class RescoringApi
{
    /// <summary>
    /// <see cref="Sources"/> absent: every source (chat.message, documents.chunk). <see cref="Preview"/>: an impact preview, never applied,
    /// over the last <see cref="Days"/> days (default Ml:Rescoring:PreviewDays) under <see cref="Draft"/>'s thresholds (absent: the policy in force).
    /// </summary>
    public sealed record Request(string? Version, IReadOnlyList<string>? Sources, bool? Preview = null, Guid? Draft = null, int? Days = null);

    public sealed record Partition(int Number, string Status, string? Source, long Scored, long Skipped, int Batches, int Attempts, string? Worker, string? Error);

    public sealed record Response(Guid Id, int Number, string Status, string Trigger, string Version, IReadOnlyList<string> Sources, int BatchSize, int PauseMs,
        long Total, long Scored, long Skipped, DateTime CreatedAt, DateTime? FinishedAt, bool CancelRequested, string? Error, DateTime? AppliedAt,
        IReadOnlyList<Partition> Partitions, RescoringSummary? Summary, bool Preview, Guid? Draft, string? DraftName, DateTime? Since, int? MaxItems)
    {
        public static Response From(RescoringRun r, IReadOnlyList<RescoringPartition> partitions, RescoringSummary? summary) => new(r.Id, r.Number, r.Status, r.Trigger,
            $"birbal-v{r.VersionNumber}", r.Sources, r.BatchSize, r.PauseMs, r.Total, r.Scored, r.Skipped, r.CreatedAt, r.FinishedAt, r.CancelRequested, r.Error, r.AppliedAt,
            [.. partitions.Select(p => new Partition(p.Partition, p.Status, p.SourceIndex < r.Sources.Length ? r.Sources[p.SourceIndex] : null, p.Scored, p.Skipped,
                p.Batches, p.Attempts, p.Worker, p.Error))], summary, r.Preview, r.DraftId, r.DraftName, r.Since, r.MaxItems);
    }

    public sealed record ApplyResponse(Guid Id, int Events, long Verdicts);

    public static void Map(RouteGroupBuilder ml)
    {
        var runs = ml.MapGroup("/rescoring-runs").WithTags("Re-scoring").RequireAuthorization(Policies.Admin);
        runs.MapPost("/", Start).WithSummary("Start a batch re-scoring run (Admins): a registered version (v3, 3 or its id) and the sources; or an impact preview of a draft policy").ProducesProblem(400);
        runs.MapGet("/", List).WithSummary("Re-scoring runs, newest first (Admins)");
        runs.MapGet("/{id:guid}", Get).WithSummary("A re-scoring run: progress per partition and the summary of verdicts that would change (Admins)").ProducesProblem(404);
        runs.MapPost("/{id:guid}/cancel", Cancel).WithSummary("Cancel a queued or running re-scoring run (Admins)").ProducesProblem(404).ProducesProblem(409);
        runs.MapPost("/{id:guid}/apply", Apply).WithSummary("Apply a finished run (Admins, audited): publishes ml.verdicts-revised.v1; the owners hold, never release")
            .ProducesProblem(404).ProducesProblem(409);
    }

    static async Task<Results<Created<Response>, ProblemHttpResult>> Start(Request request, ClaimsPrincipal user, RescoringRuns runs, PolicyDrafts drafts,
        IOptions<RescoringOptions> options, CancellationToken ct)
    {
        ProblemHttpResult Invalid(string detail) => TypedResults.Problem(detail, statusCode: 400, title: "Invalid re-scoring run");
        if (string.IsNullOrWhiteSpace(request.Version)) return Invalid("version: which registered version scores (v3, 3 or its id).");
        RescoringRuns.PreviewTerms? preview = null;
        if (request.Preview == true)
        {
            PolicyDraft? draft = null;
            if (request.Draft is { } draftId && (draft = await drafts.FindAsync(draftId, ct)) is null) return Invalid($"draft: no draft policy {draftId}.");
            preview = new(draft, request.Days ?? options.Value.PreviewDays);
        }
        else if (request.Draft is not null || request.Days is not null)
            return Invalid("draft and days are for an impact preview: add \"preview\": true (a run that can be applied scores under the policy in force).");
        var started = await runs.StartAsync(request.Version, request.Sources ?? RescoringSources.All, "api", user.UserIdOrNull(), ct, preview);
        return started.Run is { } run
            ? TypedResults.Created($"/api/ml/rescoring-runs/{run.Id}", Response.From(run, await runs.PartitionsAsync(run.Id, ct), null))
            : TypedResults.Problem(started.Error, statusCode: 400, title: "Invalid re-scoring run");
    }

    static async Task<Ok<IReadOnlyList<Response>>> List(RescoringRuns runs, CancellationToken ct) =>
        TypedResults.Ok<IReadOnlyList<Response>>([.. (await runs.ListAsync(100, ct)).Select(r => Response.From(r, [], null))]);

    static async Task<Results<Ok<Response>, NotFound>> Get(Guid id, RescoringRuns runs, CancellationToken ct) =>
        await runs.FindAsync(id, ct) is { } run
            ? TypedResults.Ok(Response.From(run, await runs.PartitionsAsync(id, ct), await runs.SummaryAsync(id, ct)))
            : TypedResults.NotFound();

    static async Task<Results<Accepted, NotFound, ProblemHttpResult>> Cancel(Guid id, RescoringRuns runs, CancellationToken ct) =>
        await runs.CancelAsync(id, ct) switch
        {
            null => TypedResults.NotFound(),
            false => TypedResults.Problem("The run has ended; there is nothing to cancel.", statusCode: 409, title: "Run ended"),
            true => TypedResults.Accepted($"/api/ml/rescoring-runs/{id}"),
        };

    static async Task<Results<Ok<ApplyResponse>, NotFound, ProblemHttpResult>> Apply(Guid id, ClaimsPrincipal user, RescoringRuns runs, CancellationToken ct)
    {
        var applied = await runs.ApplyAsync(id, user.UserIdOrNull(), ct);
        return applied.Status switch
        {
            200 => TypedResults.Ok(new ApplyResponse(id, applied.Events, applied.Verdicts)),
            404 => TypedResults.NotFound(),
            _ => TypedResults.Problem(applied.Error, statusCode: applied.Status, title: "Cannot apply"),
        };
    }
}
