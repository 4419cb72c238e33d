using BirbalAI.Contracts.Identity;
using Dapper;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Npgsql;

namespace BirbalAI.Annotation.Pages.Annotation;

/// <summary>The projects the annotator reaches, with what waits in each.</summary>
[Authorize(Policy = Policies.Annotator)]
sealed class IndexModel(NpgsqlDataSource db) : PageModel
{
    public IReadOnlyList<Row> Projects { get; private set; } = [];

    public sealed record Row(Guid Id, string Name, string Kind, int Overlap, long Open, long InReview);

    public async Task OnGetAsync(CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        Projects = [.. await connection.QueryAsync<Row>(new CommandDefinition(Sql, new { UserId = User.UserId(), Admin = User.IsInRole(Roles.Admin) }, cancellationToken: ct))];
    }

    const string Sql = """
        select p.id, p.name, p.kind, p.overlap,
            (select count(*) from annotation.tasks t where t.project_id = p.id and t.status = 'open' and t.golden is null) as open,
            (select count(*) from annotation.tasks t where t.project_id = p.id and (t.status = 'review' or (t.second_review and not exists
                (select 1 from annotation.reviews r where r.task_id = t.id)))) as in_review
        from annotation.projects p
        where @Admin or p.open_to_annotators or exists (select 1 from annotation.project_members m where m.project_id = p.id and m.user_id = @UserId)
        order by p.kind, p.name
        """;
}
