using System.Security.Claims;
using BirbalAI.Contracts.Identity;
using BirbalAI.Contracts.Ml;
using Dapper;
using Npgsql;

namespace BirbalAI.Annotation.Projects;

/// <summary>A project as the queue and the pages need it.</summary>
sealed class ProjectRow
{
    public Guid Id { get; init; }
    public string Name { get; init; } = "";
    public string Kind { get; init; } = "";
    public string[] Categories { get; init; } = [];
    public string[] ExtraCategories { get; init; } = [];
    public int Overlap { get; init; }
    public int ReservationMinutes { get; init; }
    public string Guidelines { get; init; } = "";
    public float GoldenRate { get; init; }
    public float SecondReviewShare { get; init; }
    public bool OpenToAnnotators { get; init; }
    public bool IsMember { get; init; }

    public bool IsModeration => Kind == ProjectAccess.Moderation;

    /// <summary>Every label of the schema, in key order: the moderation categories, then the admins' extras.</summary>
    public IReadOnlyList<string> Labels => [.. Categories, .. ExtraCategories];
}

/// <summary>Projects, and who reaches them: Admins every project, Annotators the open ones and those they are members of, nobody else any.</summary>
static class ProjectAccess
{
    public const string Moderation = "moderation", Labelling = "labelling";

    /// <summary>The moderation review project: created at start, overlap 1 (the first accepted decision acts), open to every Annotator.</summary>
    public static readonly Guid ModerationId = Guid.Parse("01990000-0000-7000-8000-00000000a001");

    public const string ModerationName = "Moderation review";

    /// <summary>The labelling project active learning fills (ml.tasks-proposed.v1): made when Ml first proposes tasks, open to every Annotator.</summary>
    public static readonly Guid ActiveLearningId = Guid.Parse("01990000-0000-7000-8000-00000000a002");

    public const string ActiveLearningName = "Active learning";

    /// <summary>The active-learning project's id: made now if missing (or an Admin's project that already has its name).</summary>
    public static async Task<Guid> EnsureActiveLearningAsync(NpgsqlConnection connection, NpgsqlTransaction tx, int overlap, int reservationMinutes, CancellationToken ct)
    {
        await connection.ExecuteAsync(new CommandDefinition("""
            insert into annotation.projects (id, name, kind, categories, overlap, reservation_minutes, guidelines, open_to_annotators)
            values (@Id, @Name, 'labelling', @Categories, @Overlap, @ReservationMinutes, @Guidelines, true)
            on conflict do nothing
            """, new
        {
            Id = ActiveLearningId, Name = ActiveLearningName, Categories = ModerationCategories.Default.ToArray(), overlap, reservationMinutes, Guidelines = Guidelines.Labelling,
        }, tx, cancellationToken: ct));
        return await connection.ExecuteScalarAsync<Guid>(new CommandDefinition(
            "select id from annotation.projects where id = @Id or name = @Name order by id = @Id desc limit 1", new { Id = ActiveLearningId, Name = ActiveLearningName }, tx,
            cancellationToken: ct));
    }

    /// <summary>The project if <paramref name="user"/> may reach it, else null (callers answer 404: a project one cannot reach does not exist for them).</summary>
    public static async Task<ProjectRow?> ReachableAsync(NpgsqlConnection connection, Guid projectId, ClaimsPrincipal user, CancellationToken ct, NpgsqlTransaction? tx = null)
    {
        if (!user.IsInRole(Roles.Annotator) && !user.IsInRole(Roles.Admin)) return null;   // Members never label
        var project = await connection.QuerySingleOrDefaultAsync<ProjectRow?>(new CommandDefinition(ProjectSql, new { projectId, UserId = user.UserId() }, tx, cancellationToken: ct));
        return project is null ? null : user.IsInRole(Roles.Admin) || project.OpenToAnnotators || project.IsMember ? project : null;
    }

    public static async Task<IReadOnlyList<ProjectRow>> ReachableAsync(NpgsqlConnection connection, ClaimsPrincipal user, CancellationToken ct) =>
        [.. (await connection.QueryAsync<ProjectRow>(new CommandDefinition(ListSql, new { UserId = user.UserId(), Admin = user.IsInRole(Roles.Admin) }, cancellationToken: ct)))];

    /// <summary>Creates the moderation review project when it does not exist yet (every replica may try; one insert wins).</summary>
    public static Task EnsureModerationAsync(NpgsqlConnection connection, int reservationMinutes, CancellationToken ct) =>
        connection.ExecuteAsync(new CommandDefinition(EnsureModerationSql, new
        {
            Id = ModerationId, Name = ModerationName, Categories = ModerationCategories.Default.ToArray(), Guidelines = Guidelines.Labelling, reservationMinutes,
        }, cancellationToken: ct));

    const string Columns = """
        p.id, p.name, p.kind, p.categories, p.extra_categories, p.overlap, p.reservation_minutes, p.guidelines, p.golden_rate, p.second_review_share,
        p.open_to_annotators, exists (select 1 from annotation.project_members m where m.project_id = p.id and m.user_id = @UserId) as is_member
        """;

    const string ProjectSql = $"select {Columns} from annotation.projects p where p.id = @ProjectId";

    const string ListSql = $"""
        select {Columns} from annotation.projects p
        where @Admin or p.open_to_annotators or exists (select 1 from annotation.project_members m where m.project_id = p.id and m.user_id = @UserId)
        order by p.kind, p.name
        """;

    const string EnsureModerationSql = """
        insert into annotation.projects (id, name, kind, categories, overlap, reservation_minutes, guidelines, open_to_annotators)
        values (@Id, @Name, 'moderation', @Categories, 1, @ReservationMinutes, @Guidelines, true)
        on conflict do nothing
        """;
}
