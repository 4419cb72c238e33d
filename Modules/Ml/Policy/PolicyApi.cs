using System.Security.Claims;
using BirbalAI.Contracts.Identity;
using BirbalAI.Ml.Serving;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace BirbalAI.Ml.Policy;

/// <summary>GET /api/ml/policy: the policy in force (Annotators and Admins).</summary>
static class GetPolicy
{
    public sealed record Response(int Version, IReadOnlyDictionary<string, Thresholds> Thresholds, string? Note, DateTime CreatedAt, Guid? CreatedBy)
    {
        public static Response From(ModerationPolicy p) => new(p.Version, p.Thresholds, p.Note, p.CreatedAt, p.CreatedBy);
    }

    public static void Map(RouteGroupBuilder ml) => ml.MapGet("/policy", Handle)
        .RequireAuthorization(Policies.Annotator)
        .WithSummary("The moderation policy in force: review and reject thresholds per category");

    static async Task<Ok<Response>> Handle(PolicyStore store, CancellationToken ct) =>
        TypedResults.Ok(Response.From(await store.CurrentAsync(ct)));
}

/// <summary>PUT /api/ml/policy: a new policy version (Admins), validated, audited, in force on every replica at once.</summary>
static class UpdatePolicy
{
    /// <summary>Thresholds for every category; <see cref="ExpectedVersion"/>, when given, must still be in force (else 409).</summary>
    public sealed record Request(IReadOnlyDictionary<string, Thresholds>? Thresholds, string? Note, int? ExpectedVersion);

    public static void Map(RouteGroupBuilder ml) => ml.MapPut("/policy", Handle)
        .RequireAuthorization(Policies.Admin)
        .WithSummary("Save a new policy version (Admins): 0 ≤ review ≤ reject ≤ 1 for every category")
        .ProducesValidationProblem()
        .ProducesProblem(StatusCodes.Status409Conflict);

    static async Task<Results<Ok<GetPolicy.Response>, ValidationProblem, ProblemHttpResult>> Handle(
        Request request, ClaimsPrincipal user, PolicyStore store, ModelCatalog catalog, CancellationToken ct)
    {
        return await store.SaveAsync(request.Thresholds, PolicyCategories.Known(catalog), request.ExpectedVersion, request.Note, user, ct) switch
        {
            PolicyStore.Saved saved => TypedResults.Ok(GetPolicy.Response.From(saved.Policy)),
            PolicyStore.Conflict conflict => TypedResults.Problem(
                $"The policy changed since version {request.ExpectedVersion}: version {conflict.CurrentVersion} is in force. Reload it and apply your change again.",
                statusCode: 409, title: "Policy changed meanwhile"),
            PolicyStore.Invalid invalid => TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["thresholds"] = [.. invalid.Errors] },
                title: "Invalid policy"),
            _ => throw new InvalidOperationException(),
        };
    }
}

static class PolicyCategories
{
    /// <summary>The taxonomy plus any category the production model adds.</summary>
    public static IReadOnlyCollection<string> Known(ModelCatalog catalog)
    {
        var known = new List<string>(Categories.Default);
        if (catalog.ProductionCategories is { } model) known.AddRange(model.Where(c => !known.Contains(c)));
        return known;
    }
}
