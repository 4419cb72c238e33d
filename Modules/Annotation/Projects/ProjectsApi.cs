using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using BirbalAI.Annotation.Queue;
using BirbalAI.Annotation.Tasks;
using BirbalAI.Contracts.Identity;
using BirbalAI.Contracts.Ml;
using Dapper;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;
using Npgsql;

namespace BirbalAI.Annotation.Projects;

/// <summary>Projects: Annotators list those they reach; Admins create them, change their settings and members, and backfill.</summary>
static class ProjectsApi
{
    public sealed record ProjectSummary(Guid Id, string Name, string Kind, IReadOnlyList<string> Categories, int Overlap, int ReservationMinutes,
        float GoldenRate, float SecondReviewShare);

    public sealed record CreateRequest([Required, MaxLength(120)] string Name, IReadOnlyList<string>? ExtraCategories, [Range(1, 20)] int Overlap = 2,
        [Range(1, 1440)] int? ReservationMinutes = null, [MaxLength(100_000)] string? Guidelines = null);

    public sealed record SettingsRequest([Range(1, 20)] int? Overlap, [Range(1, 1440)] int? ReservationMinutes, [Range(0, 1)] float? GoldenRate,
        [Range(0, 1)] float? SecondReviewShare, IReadOnlyList<string>? ExtraCategories, [MaxLength(100_000)] string? Guidelines);

    public sealed record MemberRequest(Guid UserId);
    public sealed record BackfillResponse(int Added);

    public static void Map(RouteGroupBuilder annotation)
    {
        annotation.MapGet("/projects", List).WithSummary("Projects you may label in");
        annotation.MapPost("/projects", Create).WithSummary("Create a labelling project (Admins)").RequireAuthorization(Policies.Admin).ProducesProblem(400).ProducesProblem(409);
        annotation.MapPut("/projects/{projectId:guid}", Update).WithSummary("Change a project's settings (Admins)").RequireAuthorization(Policies.Admin)
            .ProducesProblem(400).ProducesProblem(404);
        annotation.MapPost("/projects/{projectId:guid}/members", AddMember).WithSummary("Let an Annotator into a labelling project (Admins)")
            .RequireAuthorization(Policies.Admin).ProducesProblem(404);
        annotation.MapPost("/backfill", RunBackfill).WithSummary("Turn chat messages still waiting for review into tasks (Admins)").RequireAuthorization(Policies.Admin);
    }

    static ProjectSummary Summary(ProjectRow p) => new(p.Id, p.Name, p.Kind, p.Labels, p.Overlap, p.ReservationMinutes, p.GoldenRate, p.SecondReviewShare);

    static async Task<Ok<IReadOnlyList<ProjectSummary>>> List(ClaimsPrincipal user, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return TypedResults.Ok<IReadOnlyList<ProjectSummary>>([.. (await ProjectAccess.ReachableAsync(connection, user, ct)).Select(Summary)]);
    }

    static string? CheckExtras(IReadOnlyList<string>? extras, AnnotationOptions o)
    {
        if (extras is null) return null;
        if (extras.Any(e => string.IsNullOrWhiteSpace(e) || e.Length > 60 || e.Any(char.IsControl) || e.Contains(',')))
            return "An extra category is 1 to 60 characters, without commas or control characters.";
        if (extras.Intersect(ModerationCategories.Default).Any() || extras.Distinct().Count() != extras.Count) return "Extra categories are new names, each once.";
        if (extras.Count + ModerationCategories.Default.Count > o.MaxCategories)
            return $"A project has at most {o.MaxCategories} categories (Annotation:MaxCategories).";
        return null;
    }

    static async Task<Results<Created<ProjectSummary>, ProblemHttpResult>> Create(CreateRequest request, ClaimsPrincipal user, NpgsqlDataSource db,
        IOptions<AnnotationOptions> options, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var (id, refusal) = await CreateAsync(connection, request, options.Value, ct);
        if (refusal is { } r) return QueueApi.Problem(r.Status, r.Error);
        var project = (await ProjectAccess.ReachableAsync(connection, id, user, ct))!;
        return TypedResults.Created($"/api/annotation/projects/{id}", Summary(project));
    }

    /// <summary>Creates a labelling project (the API and the demo): its id, or why not (a bad extra category, a name taken).</summary>
    public static async Task<(Guid Id, (int Status, string Error)? Refusal)> CreateAsync(NpgsqlConnection connection, CreateRequest request, AnnotationOptions options,
        CancellationToken ct)
    {
        if (CheckExtras(request.ExtraCategories, options) is { } bad) return (Guid.Empty, (400, bad));
        var id = Guid.CreateVersion7();
        var created = await connection.ExecuteAsync(new CommandDefinition(CreateSql, new
        {
            id, Name = request.Name.Trim(), Categories = ModerationCategories.Default.ToArray(), Extra = (request.ExtraCategories ?? []).Select(e => e.Trim()).ToArray(),
            request.Overlap, ReservationMinutes = request.ReservationMinutes ?? options.ReservationMinutes, Guidelines = request.Guidelines ?? Guidelines.Labelling,
        }, cancellationToken: ct));
        return created == 0 ? (Guid.Empty, (409, $"A project named '{request.Name.Trim()}' exists already.")) : (id, null);
    }

    static async Task<Results<Ok<ProjectSummary>, ProblemHttpResult>> Update(Guid projectId, SettingsRequest request, ClaimsPrincipal user, NpgsqlDataSource db,
        IOptions<AnnotationOptions> options, CancellationToken ct)
    {
        if (await UpdateAsync(db, user, projectId, request, options.Value, ct) is { } refusal) return QueueApi.Problem(refusal.Status, refusal.Error);
        await using var connection = await db.OpenConnectionAsync(ct);
        return TypedResults.Ok(Summary((await ProjectAccess.ReachableAsync(connection, projectId, user, ct))!));
    }

    /// <summary>Changes a project's settings (the API and the project page); null when done, else why not.</summary>
    public static async Task<(int Status, string Error)?> UpdateAsync(NpgsqlDataSource db, ClaimsPrincipal user, Guid projectId, SettingsRequest request,
        AnnotationOptions options, CancellationToken ct)
    {
        if (CheckExtras(request.ExtraCategories, options) is { } bad) return (400, bad);
        if (request.Overlap is < 1 or > 20) return (400, "Overlap: 1 to 20 people per task.");
        if (request.ReservationMinutes is < 1 or > 1440) return (400, "Reservation: 1 to 1440 minutes.");
        if (request.GoldenRate is < 0 or > 1 || request.SecondReviewShare is < 0 or > 1) return (400, "The golden rate and the second-review share are between 0 and 1.");
        await using var connection = await db.OpenConnectionAsync(ct);
        if (await ProjectAccess.ReachableAsync(connection, projectId, user, ct) is not { } project) return (404, "No such project.");
        if (project.IsModeration && request.Overlap is not (null or 1))
            return (400, "The moderation review project has overlap 1: the first accepted decision acts.");
        await connection.ExecuteAsync(new CommandDefinition(UpdateSql, new
        {
            projectId, request.Overlap, request.ReservationMinutes, request.GoldenRate, request.SecondReviewShare,
            Extra = request.ExtraCategories?.Select(e => e.Trim()).ToArray(), request.Guidelines,
        }, cancellationToken: ct));
        return null;
    }

    static async Task<Results<NoContent, ProblemHttpResult>> AddMember(Guid projectId, MemberRequest request, ClaimsPrincipal user, NpgsqlDataSource db, CancellationToken ct)
    {
        if (request.UserId == Guid.Empty) return QueueApi.Problem(400, "userId: the Annotator to let in.");
        await using var connection = await db.OpenConnectionAsync(ct);
        if (await ProjectAccess.ReachableAsync(connection, projectId, user, ct) is null) return QueueApi.Problem(404, "No such project.");
        await AddMemberAsync(connection, projectId, request.UserId, ct);
        return TypedResults.NoContent();
    }

    /// <summary>Lets an Annotator into a project (the API and the demo).</summary>
    public static Task AddMemberAsync(NpgsqlConnection connection, Guid projectId, Guid userId, CancellationToken ct) =>
        connection.ExecuteAsync(new CommandDefinition(
            "insert into annotation.project_members (project_id, user_id) values (@ProjectId, @UserId) on conflict do nothing",
            new { projectId, userId }, cancellationToken: ct));

    static async Task<Ok<BackfillResponse>> RunBackfill(Backfill backfill, CancellationToken ct) => TypedResults.Ok(new BackfillResponse(await backfill.RunAsync(ct)));

    const string CreateSql = """
        insert into annotation.projects (id, name, kind, categories, extra_categories, overlap, reservation_minutes, guidelines, open_to_annotators)
        values (@Id, @Name, 'labelling', @Categories, @Extra, @Overlap, @ReservationMinutes, @Guidelines, false)
        on conflict (name) do nothing
        """;

    const string UpdateSql = """
        update annotation.projects set overlap = coalesce(@Overlap, overlap), reservation_minutes = coalesce(@ReservationMinutes, reservation_minutes),
            golden_rate = coalesce(@GoldenRate, golden_rate), second_review_share = coalesce(@SecondReviewShare, second_review_share),
            extra_categories = coalesce(@Extra, extra_categories), guidelines = coalesce(@Guidelines, guidelines)
        where id = @ProjectId
        """;
}
