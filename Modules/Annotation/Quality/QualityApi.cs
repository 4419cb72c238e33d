using System.Security.Claims;
using BirbalAI.Annotation.Projects;
using BirbalAI.Annotation.Queue;
using BirbalAI.Contracts.Identity;
using Dapper;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Npgsql;

namespace BirbalAI.Annotation.Quality;

/// <summary>Review (accept, correct, bulk accept), a project's figures, and golden tasks (Admins mark the known answer).</summary>
static class QualityApi
{
    public sealed record ReviewRequest(IReadOnlyList<string>? Categories);
    public sealed record ReviewResponse(bool Corrected);
    public sealed record BulkResponse(int Accepted);
    public sealed record GoldenRequest(IReadOnlyList<string>? Categories);

    public static void Map(RouteGroupBuilder annotation)
    {
        annotation.MapGet("/projects/{projectId:guid}/figures", Figures).WithSummary("Progress, agreement per category, annotators' throughput and golden accuracy, disagreements")
            .ProducesProblem(404);
        annotation.MapGet("/projects/{projectId:guid}/review", Waiting).WithSummary("Tasks waiting for a reviewer, with their labels side by side").ProducesProblem(404);
        annotation.MapPost("/projects/{projectId:guid}/review/accept-unanimous", AcceptUnanimous).WithSummary("Accept every waiting task whose labels all agree").ProducesProblem(404);
        annotation.MapPost("/tasks/{taskId:guid}/review", Review).WithSummary("Accept the labels (no categories: the majority's) or correct them")
            .ProducesProblem(400).ProducesProblem(404).ProducesProblem(409);
        annotation.MapPost("/tasks/{taskId:guid}/golden", MarkGolden).WithSummary("Make a task golden with its known answer (Admins)").RequireAuthorization(Policies.Admin)
            .ProducesProblem(400).ProducesProblem(404);
    }

    static async Task<Results<Ok<ProjectFigures>, ProblemHttpResult>> Figures(Guid projectId, ClaimsPrincipal user, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        if (await ProjectAccess.ReachableAsync(connection, projectId, user, ct) is not { } project) return QueueApi.Problem(404, "No such project.");
        return TypedResults.Ok(await ProjectStats.ReadAsync(connection, projectId, project.Labels, ct));
    }

    static async Task<Results<Ok<IReadOnlyList<ReviewItem>>, ProblemHttpResult>> Waiting(Guid projectId, ClaimsPrincipal user, NpgsqlDataSource db, Reviews reviews, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        if (await ProjectAccess.ReachableAsync(connection, projectId, user, ct) is null) return QueueApi.Problem(404, "No such project.");
        return TypedResults.Ok(await reviews.WaitingAsync(connection, projectId, 200, user.UserId(), ct));
    }

    static async Task<Results<Ok<BulkResponse>, ProblemHttpResult>> AcceptUnanimous(Guid projectId, ClaimsPrincipal user, Reviews reviews, CancellationToken ct) =>
        await reviews.AcceptUnanimousAsync(user, projectId, ct) is { Error: null } done ? TypedResults.Ok(new BulkResponse(done.Value)) : QueueApi.Problem(404, "No such project.");

    static async Task<Results<Ok<ReviewResponse>, ProblemHttpResult>> Review(Guid taskId, ReviewRequest request, ClaimsPrincipal user, Reviews reviews, CancellationToken ct)
    {
        var outcome = await reviews.AcceptAsync(user, taskId, request.Categories, ct);
        return outcome.Error is null ? TypedResults.Ok(new ReviewResponse(outcome.Value)) : QueueApi.Problem(outcome.Status, outcome.Error);
    }

    static async Task<Results<NoContent, ProblemHttpResult>> MarkGolden(Guid taskId, GoldenRequest request, ClaimsPrincipal user, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var projectId = await connection.ExecuteScalarAsync<Guid?>(new CommandDefinition("select project_id from annotation.tasks where id = @TaskId", new { taskId }, cancellationToken: ct));
        if (projectId is null || await ProjectAccess.ReachableAsync(connection, projectId.Value, user, ct) is not { } project) return QueueApi.Problem(404, "No such task.");
        if (project.IsModeration) return QueueApi.Problem(400, "Moderation tasks are real content waiting for a decision; golden tasks belong to labelling projects.");
        var answer = (request.Categories ?? []).Distinct().Order().ToArray();
        if (answer.Except(project.Labels).ToList() is [_, ..] unknown) return QueueApi.Problem(400, $"Not a category of this project: {string.Join(", ", unknown)}.");
        await connection.ExecuteAsync(new CommandDefinition("update annotation.tasks set golden = @Answer, status = 'open' where id = @TaskId",
            new { taskId, answer }, cancellationToken: ct));
        return TypedResults.NoContent();
    }
}
