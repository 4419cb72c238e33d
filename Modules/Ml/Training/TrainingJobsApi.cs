using System.Security.Claims;
using BirbalAI.Contracts.Identity;
using BirbalAI.Ml.Datasets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace BirbalAI.Ml.Training;

/// <summary>/api/ml/training-jobs (Admins): start a job on a snapshot, follow it (epoch, loss, ETA, log), cancel it.</summary>
static class TrainingJobsApi
{
    /// <summary>Absent hyperparameters take the defaults of <see cref="TrainingParameters"/>.</summary>
    public sealed record Request(string? Snapshot, string? Kind, int? Epochs, int? Dim, float? LearningRate, int? Buckets, int? MinN, int? MaxN,
        int? WordNgrams, int? Seed, bool? EarlyStopping)
    {
        public TrainingParameters Parameters()
        {
            var d = new TrainingParameters();
            return new TrainingParameters(Epochs ?? d.Epochs, Dim ?? d.Dim, LearningRate ?? d.LearningRate, Buckets ?? d.Buckets, MinN ?? d.MinN,
                MaxN ?? d.MaxN, WordNgrams ?? d.WordNgrams, Seed ?? d.Seed, EarlyStopping ?? d.EarlyStopping);
        }
    }

    public sealed record Response(Guid Id, int Number, string Status, string Trigger, string Snapshot, string Kind, TrainingParameters Parameters,
        int Attempts, int? Epoch, int? Epochs, double? Loss, double? EtaSeconds, DateTime CreatedAt, DateTime? StartedAt, DateTime? FinishedAt,
        bool CancelRequested, string? Error, Guid? VersionId, string? Version, string Log)
    {
        public static Response From(TrainingJob j) => new(j.Id, j.Number, j.Status, j.Trigger, $"s{j.SnapshotNumber}", j.Kind, j.ParameterValues,
            j.Attempts, j.Epoch, j.Epochs, j.Loss, j.EtaSeconds, j.CreatedAt, j.StartedAt, j.FinishedAt, j.CancelRequested, j.Error, j.VersionId,
            j.VersionNumber is { } n ? $"birbal-v{n}" : null, j.Log);
    }

    public static void Map(RouteGroupBuilder ml)
    {
        var jobs = ml.MapGroup("/training-jobs").WithTags("Datasets and training").RequireAuthorization(Policies.Admin);
        jobs.MapPost("/", Start).WithSummary("Start a training job (Admins): snapshot (s3, 3 or its id), kind ngram, hyperparameters (defaults when absent)")
            .ProducesProblem(400);
        jobs.MapGet("/", List).WithSummary("Training jobs, newest first (Admins)");
        jobs.MapGet("/{id:guid}", Get).WithSummary("A training job: status, epoch, loss, ETA, log (Admins)").ProducesProblem(404);
        jobs.MapPost("/{id:guid}/cancel", Cancel).WithSummary("Cancel a queued or running training job (Admins)").ProducesProblem(404).ProducesProblem(409);
    }

    static async Task<Results<Created<Response>, ProblemHttpResult>> Start(Request request, ClaimsPrincipal user, TrainingJobs jobs, Snapshots snapshots, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(request.Snapshot)) return TypedResults.Problem("snapshot: which snapshot to train on (s3, 3 or its id).", statusCode: 400, title: "Invalid training job");
        var started = await jobs.StartAsync(request.Snapshot.Trim(), request.Kind ?? ModelKinds.Ngram, request.Parameters(), "api", user.UserIdOrNull(), snapshots, ct);
        return started.Job is { } job
            ? TypedResults.Created($"/api/ml/training-jobs/{job.Id}", Response.From(job))
            : TypedResults.Problem(started.Error, statusCode: 400, title: "Invalid training job");
    }

    static async Task<Ok<IReadOnlyList<Response>>> List(TrainingJobs jobs, CancellationToken ct) =>
        TypedResults.Ok<IReadOnlyList<Response>>([.. (await jobs.ListAsync(100, ct)).Select(Response.From)]);

    static async Task<Results<Ok<Response>, NotFound>> Get(Guid id, TrainingJobs jobs, CancellationToken ct) =>
        await jobs.FindAsync(id, ct) is { } job ? TypedResults.Ok(Response.From(job)) : TypedResults.NotFound();

    static async Task<Results<Accepted<Response>, NotFound, ProblemHttpResult>> Cancel(Guid id, ClaimsPrincipal user, TrainingJobs jobs, CancellationToken ct) =>
        await jobs.CancelAsync(id, user.UserIdOrNull(), ct) switch
        {
            null => TypedResults.NotFound(),
            false => TypedResults.Problem("The job has ended; there is nothing to cancel.", statusCode: 409, title: "Job ended"),
            true => TypedResults.Accepted($"/api/ml/training-jobs/{id}", Response.From((await jobs.FindAsync(id, ct))!)),
        };
}
