using System.Security.Claims;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace BirbalAI.Annotation.Queue;

/// <summary>The labelling queue over REST (the labelling page uses it too). Annotators and Admins, in projects they reach.</summary>
static class QueueApi
{
    public sealed record SubmitRequest(IReadOnlyList<string>? Categories, IReadOnlyDictionary<string, int>? Severities, string? Note, string? Decision);
    public sealed record SkipRequest(string? Reason);

    public static void Map(RouteGroupBuilder annotation)
    {
        annotation.MapGet("/projects/{projectId:guid}/next", Next)
            .WithSummary("The next task for you (reserved for you): severity first, then age; `exclude` (task ids) fetches the one after").ProducesProblem(404);
        annotation.MapGet("/tasks/{taskId:guid}", Get).WithSummary("A task you may label").ProducesProblem(404);
        annotation.MapPost("/tasks/{taskId:guid}/annotations", Submit)
            .WithSummary("Submit your label (categories; in moderation, release when none applies, else remove); undoable until published")
            .ProducesProblem(400).ProducesProblem(404).ProducesProblem(409);
        annotation.MapDelete("/annotations/{annotationId:guid}", Undo).WithSummary("Undo your label before it is published").ProducesProblem(404).ProducesProblem(409);
        annotation.MapPost("/tasks/{taskId:guid}/skip", Skip).WithSummary("Skip a task reserved for you, with a reason").ProducesProblem(400).ProducesProblem(404).ProducesProblem(409);
        annotation.MapPost("/tasks/{taskId:guid}/reveal", Reveal).WithSummary("Reveal a severe task (counts against your daily limit)").ProducesProblem(404).ProducesProblem(429);
    }

    static async Task<Results<Ok<NextTask>, ProblemHttpResult>> Next(Guid projectId, Guid[]? exclude, ClaimsPrincipal user, LabellingQueue queue, CancellationToken ct) =>
        ToResult(await queue.NextAsync(user, projectId, exclude ?? [], ct));

    static async Task<Results<Ok<TaskView>, ProblemHttpResult>> Get(Guid taskId, ClaimsPrincipal user, LabellingQueue queue, CancellationToken ct) =>
        ToResult(await queue.GetAsync(user, taskId, ct));

    static async Task<Results<Ok<Submitted>, ProblemHttpResult>> Submit(Guid taskId, SubmitRequest request, ClaimsPrincipal user, LabellingQueue queue, CancellationToken ct) =>
        ToResult(await queue.SubmitAsync(user, taskId, request.Categories, request.Severities, request.Note, request.Decision, ct));

    static async Task<Results<Ok<Guid>, ProblemHttpResult>> Undo(Guid annotationId, ClaimsPrincipal user, LabellingQueue queue, CancellationToken ct) =>
        ToResult(await queue.UndoAsync(user, annotationId, ct));

    static async Task<Results<Ok<Guid>, ProblemHttpResult>> Skip(Guid taskId, SkipRequest request, ClaimsPrincipal user, LabellingQueue queue, CancellationToken ct) =>
        ToResult(await queue.SkipAsync(user, taskId, request.Reason, ct));

    static async Task<Results<Ok<Progress>, ProblemHttpResult>> Reveal(Guid taskId, ClaimsPrincipal user, LabellingQueue queue, CancellationToken ct) =>
        ToResult(await queue.RevealAsync(user, taskId, ct));

    static Results<Ok<T>, ProblemHttpResult> ToResult<T>(Outcome<T> outcome) =>
        outcome.Error is null ? TypedResults.Ok(outcome.Value!) : Problem(outcome.Status, outcome.Error);

    public static ProblemHttpResult Problem(int status, string detail) => TypedResults.Problem(detail, statusCode: status, title: status switch
    {
        400 => "Invalid request",
        403 => "Not allowed",
        404 => "Not found",
        409 => "Conflict",
        429 => "Limit reached",
        _ => null,
    });
}
