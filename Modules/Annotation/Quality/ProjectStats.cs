using Dapper;
using Npgsql;

namespace BirbalAI.Annotation.Quality;

sealed record StatusCounts(long Open, long Review, long Done, long Closed, long Golden);
sealed record AnnotatorFigures(string UserName, long Labels, long LastDay, double? MedianSeconds, long GoldenSeen, long GoldenCorrect)
{
    public double? GoldenAccuracy => GoldenSeen == 0 ? null : (double)GoldenCorrect / GoldenSeen;
}
sealed record Disagreement(Guid TaskId, string Text, IReadOnlyList<LabelView> Labels);
sealed record ProjectFigures(StatusCounts Progress, IReadOnlyList<CategoryAgreement> Agreement, IReadOnlyList<AnnotatorFigures> Annotators, IReadOnlyList<Disagreement> Disagreements);

/// <summary>A project's figures: progress, agreement per category, each annotator's throughput and golden accuracy, the disagreements.</summary>
static class ProjectStats
{
    public static async Task<ProjectFigures> ReadAsync(NpgsqlConnection connection, Guid projectId, IReadOnlyList<string> categories, CancellationToken ct)
    {
        var progress = await connection.QuerySingleAsync<StatusCounts>(new CommandDefinition(ProgressSql, new { projectId }, cancellationToken: ct));
        var labels = (await connection.QueryAsync<(Guid TaskId, string Text, string UserName, string[] Categories, string? Note, string? Decision)>(
            new CommandDefinition(LabelsSql, new { projectId }, cancellationToken: ct))).GroupBy(l => (l.TaskId, l.Text)).ToList();
        var agreement = Agreement.PerCategory([.. labels.Select(g => (IReadOnlyList<IReadOnlyCollection<string>>)[.. g.Select(l => (IReadOnlyCollection<string>)l.Categories)])], categories);
        var annotators = (await connection.QueryAsync<AnnotatorFigures>(new CommandDefinition(AnnotatorsSql, new { projectId }, cancellationToken: ct))).ToList();
        var disagreements = labels.Where(g => g.Count() > 1 && g.Select(l => string.Join(",", l.Categories.Order())).Distinct().Count() > 1).Take(50)
            .Select(g => new Disagreement(g.Key.TaskId, g.Key.Text, [.. g.Select(l => new LabelView(l.UserName, l.Categories, l.Note, l.Decision))])).ToList();
        return new ProjectFigures(progress, agreement, annotators, disagreements);
    }

    const string ProgressSql = """
        select count(*) filter (where status = 'open' and golden is null) as open, count(*) filter (where status = 'review') as review,
               count(*) filter (where status = 'done') as done, count(*) filter (where status = 'closed') as closed, count(*) filter (where golden is not null) as golden
        from annotation.tasks where project_id = @ProjectId
        """;

    // The published labels of ordinary tasks (golden ones have a known answer and count for accuracy instead), newest tasks first.
    const string LabelsSql = """
        select t.id as task_id, t.text, n.user_name, n.categories, n.note, n.decision
        from annotation.tasks t join annotation.annotations n on n.task_id = t.id and n.published_at is not null
        where t.project_id = @ProjectId and t.golden is null and t.id in (
            select id from annotation.tasks where project_id = @ProjectId and golden is null and labelled > 0 order by created_at desc limit 5000)
        order by t.created_at desc, n.submitted_at
        """;

    const string AnnotatorsSql = """
        select n.user_name, count(*) filter (where n.golden_correct is null) as labels,
               count(*) filter (where n.golden_correct is null and n.submitted_at > now() - interval '1 day') as last_day,
               percentile_cont(0.5) within group (order by extract(epoch from n.submitted_at - a.reserved_at)) as median_seconds,
               count(*) filter (where n.golden_correct is not null) as golden_seen, count(*) filter (where n.golden_correct) as golden_correct
        from annotation.annotations n join annotation.tasks t on t.id = n.task_id
        left join annotation.assignments a on a.task_id = n.task_id and a.user_id = n.user_id
        where t.project_id = @ProjectId
        group by n.user_id, n.user_name order by labels desc
        """;
}
