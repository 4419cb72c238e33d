using System.Security.Claims;
using BirbalAI.Contracts.Identity;
using BirbalAI.Ml.Serving;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace BirbalAI.Ml.Policy;

/// <summary>/api/ml/policy/drafts (Admins): draft policies, saved without being in force, then published as the next policy version.</summary>
static class PolicyDraftsApi
{
    public sealed record Request(string? Name, IReadOnlyDictionary<string, Thresholds>? Thresholds, string? Note);

    /// <summary><see cref="ExpectedVersion"/>, when given, must still be the policy version in force (else 409).</summary>
    public sealed record PublishRequest(int? ExpectedVersion);

    public sealed record Response(Guid Id, string Name, IReadOnlyDictionary<string, Thresholds> Thresholds, string? Note, int BasedOn, Guid? CreatedBy,
        DateTime CreatedAt, DateTime UpdatedAt, int? PublishedAs)
    {
        public static Response From(PolicyDraft d) => new(d.Id, d.Name, d.Thresholds, d.Note, d.BasedOn, d.CreatedBy, d.CreatedAt, d.UpdatedAt, d.PublishedAs);
    }

    public static void Map(RouteGroupBuilder ml)
    {
        var drafts = ml.MapGroup("/policy/drafts").RequireAuthorization(Policies.Admin);
        drafts.MapGet("/", List).WithSummary("Draft policies (Admins): drafts first, then the published ones");
        drafts.MapPost("/", Create).WithSummary("Save a draft policy (Admins): thresholds for every category, not in force until published")
            .Produces<Response>(StatusCodes.Status201Created).ProducesValidationProblem();
        drafts.MapGet("/{id:guid}", Get).WithSummary("A draft policy (Admins)").ProducesProblem(404);
        drafts.MapPut("/{id:guid}", Update).WithSummary("Change a draft policy (Admins); a published one cannot change").Produces<Response>().ProducesValidationProblem()
            .ProducesProblem(404).ProducesProblem(409);
        drafts.MapDelete("/{id:guid}", Delete).WithSummary("Delete a draft policy (Admins); a published one stays").Produces(StatusCodes.Status204NoContent).ProducesProblem(404).ProducesProblem(409);
        drafts.MapPost("/{id:guid}/publish", Publish)
            .WithSummary("Publish a draft (Admins, audited): its thresholds become the next policy version, in force on every replica at once")
            .Produces<Response>().ProducesValidationProblem().ProducesProblem(404).ProducesProblem(409);
    }

    static async Task<Ok<IReadOnlyList<Response>>> List(PolicyDrafts drafts, CancellationToken ct) =>
        TypedResults.Ok<IReadOnlyList<Response>>([.. (await drafts.ListAsync(200, ct)).Select(Response.From)]);

    static async Task<Results<Ok<Response>, NotFound>> Get(Guid id, PolicyDrafts drafts, CancellationToken ct) =>
        await drafts.FindAsync(id, ct) is { } draft ? TypedResults.Ok(Response.From(draft)) : TypedResults.NotFound();

    static async Task<IResult> Create(Request request, ClaimsPrincipal user, PolicyDrafts drafts, ModelCatalog catalog, CancellationToken ct) =>
        await drafts.CreateAsync(request.Name, request.Thresholds, request.Note, PolicyCategories.Known(catalog), user, ct) switch
        {
            PolicyDrafts.Done done => TypedResults.Created($"/api/ml/policy/drafts/{done.Draft.Id}", Response.From(done.Draft)),
            var other => Problem(other),
        };

    static async Task<IResult> Update(Guid id, Request request, PolicyDrafts drafts, ModelCatalog catalog, CancellationToken ct) =>
        await drafts.UpdateAsync(id, request.Name, request.Thresholds, request.Note, PolicyCategories.Known(catalog), ct) switch
        {
            PolicyDrafts.Done done => TypedResults.Ok(Response.From(done.Draft)),
            var other => Problem(other),
        };

    static async Task<IResult> Delete(Guid id, PolicyDrafts drafts, CancellationToken ct) =>
        await drafts.DeleteAsync(id, ct) is PolicyDrafts.Done ? TypedResults.NoContent() : Problem(await drafts.FindAsync(id, ct) is { PublishedAs: { } v }
            ? new PolicyDrafts.AlreadyPublished(v) : new PolicyDrafts.NotFound());

    static async Task<IResult> Publish(Guid id, PublishRequest? request, ClaimsPrincipal user, PolicyDrafts drafts, ModelCatalog catalog, CancellationToken ct) =>
        await drafts.PublishAsync(id, request?.ExpectedVersion, PolicyCategories.Known(catalog), user, ct) switch
        {
            PolicyDrafts.Done done => TypedResults.Ok(Response.From(done.Draft)),
            var other => Problem(other),
        };

    /// <summary>The refusals, as problem details (shared with the Policy page's messages).</summary>
    static IResult Problem(PolicyDrafts.Result result) => result switch
    {
        PolicyDrafts.Invalid invalid => TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["draft"] = [.. invalid.Errors] }, title: "Invalid draft policy"),
        PolicyDrafts.NotFound => TypedResults.NotFound(),
        PolicyDrafts.AlreadyPublished p => TypedResults.Problem($"The draft was published as policy version {p.Version}; it cannot change or be published again.",
            statusCode: 409, title: "Draft published"),
        PolicyDrafts.Conflict c => TypedResults.Problem(
            $"The policy changed: version {c.CurrentVersion} is in force. Preview the draft against it again, then publish.", statusCode: 409, title: "Policy changed meanwhile"),
        _ => throw new InvalidOperationException(),
    };
}
