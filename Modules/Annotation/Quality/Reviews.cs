using System.Security.Claims;
using BirbalAI.Annotation.Projects;
using BirbalAI.Annotation.Queue;
using BirbalAI.Contracts.Annotation;
using BirbalAI.Contracts.Identity;
using BirbalAI.Platform.Messaging;
using Dapper;
using Npgsql;

namespace BirbalAI.Annotation.Quality;

/// <summary>One annotator's published label, as a reviewer sees it beside the others.</summary>
sealed record LabelView(string UserName, IReadOnlyList<string> Categories, string? Note, string? Decision, IReadOnlyDictionary<string, int>? Severities = null);

/// <summary>A task waiting for a reviewer: its labels side by side, what most of them gave, whether they all agree.</summary>
sealed record ReviewItem(Guid TaskId, string Text, string Kind, bool SecondReview, IReadOnlyList<LabelView> Labels, IReadOnlyList<string> Majority, bool Unanimous);

/// <summary>
/// Review: a labelling task labelled by `overlap` people, or a moderation decision picked for a second look (the project's
/// second-review share), waits here. A reviewer accepts the labels (the categories most labels gave) or corrects them;
/// the accepted label goes to Ml as <see cref="LabelAccepted"/> (a second look publishes again only when it corrects).
/// </summary>
sealed class Reviews(NpgsqlDataSource db)
{
    /// <summary>Tasks waiting for <paramref name="reviewerId"/>: never one they labelled themselves (that goes to another reviewer).</summary>
    public async Task<IReadOnlyList<ReviewItem>> WaitingAsync(NpgsqlConnection connection, Guid projectId, int limit, Guid reviewerId, CancellationToken ct)
    {
        var rows = (await connection.QueryAsync<(Guid TaskId, string Text, string Kind, bool SecondReview, string UserName, string[] Categories, string? Note, string? Decision,
            string Severities)>(new CommandDefinition(WaitingSql, new { projectId, limit, reviewerId }, cancellationToken: ct))).ToList();
        return [.. rows.GroupBy(r => (r.TaskId, r.Text, r.Kind, r.SecondReview)).Select(g =>
        {
            var labels = g.Select(r => new LabelView(r.UserName, r.Categories, r.Note, r.Decision,
                System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, int>>(r.Severities))).ToList();
            return new ReviewItem(g.Key.TaskId, g.Key.Text, g.Key.Kind, g.Key.SecondReview, labels, Majority(labels), Unanimous(labels));
        })];
    }

    static IReadOnlyList<string> Majority(IReadOnlyList<LabelView> labels) =>
        [.. labels.SelectMany(l => l.Categories).GroupBy(c => c).Where(g => g.Count() * 2 > labels.Count).Select(g => g.Key).Order()];

    static bool Unanimous(IReadOnlyList<LabelView> labels) => labels.All(l => l.Categories.Order().SequenceEqual(labels[0].Categories.Order()));

    /// <summary>Accepts the task's labels (<paramref name="categories"/> null: the majority's) or corrects them to <paramref name="categories"/>.</summary>
    public async Task<Outcome<bool>> AcceptAsync(ClaimsPrincipal user, Guid taskId, IReadOnlyList<string>? categories, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var projectId = await connection.ExecuteScalarAsync<Guid?>(new CommandDefinition("select project_id from annotation.tasks where id = @TaskId", new { taskId }, cancellationToken: ct));
        if (projectId is null || await ProjectAccess.ReachableAsync(connection, projectId.Value, user, ct) is not { } project) return Outcome<bool>.Fail(404, "No such task.");
        if (categories?.Except(project.Labels).ToList() is [_, ..] unknown) return Outcome<bool>.Fail(400, $"Not a category of this project: {string.Join(", ", unknown)}.");
        await using var tx = await connection.BeginTransactionAsync(ct);
        var task = await connection.QuerySingleAsync<(string Status, bool SecondReview, bool Reviewed, string Text, string Language, string Source, Guid? ContentId)>(
            new CommandDefinition(TaskSql, new { taskId }, tx, cancellationToken: ct));
        var secondLook = task.Status == "done" && task.SecondReview && !task.Reviewed;
        if (task.Status != "review" && !secondLook) return Outcome<bool>.Fail(409, "The task is not waiting for review (reviewed already, or still being labelled).");
        // A review is a second person's look: whoever labelled or decided the task cannot accept or correct it.
        if (await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
                "select exists (select 1 from annotation.annotations where task_id = @TaskId and user_id = @UserId)", new { taskId, UserId = user.UserId() }, tx, cancellationToken: ct)))
            return Outcome<bool>.Fail(403, "You labelled this task: its review is for someone else.");
        var labels = (await connection.QueryAsync<string[]>(new CommandDefinition(
            "select categories from annotation.annotations where task_id = @TaskId and published_at is not null and golden_correct is null", new { taskId }, tx, cancellationToken: ct)))
            .Select(c => new LabelView("", c, null, null)).ToList();
        var majority = Majority(labels);
        var final = (categories ?? majority).Distinct().Order().ToList();
        var corrected = !final.SequenceEqual(majority);
        await connection.ExecuteAsync(new CommandDefinition(AcceptSql, new { taskId, ReviewerId = user.UserId(), Categories = final.ToArray(), corrected }, tx, cancellationToken: ct));
        if (!secondLook || corrected)
            await Outbox.AddAsync(connection, tx, new LabelAccepted(task.Text, task.Language, final, task.Source,
                task.ContentId ?? (task.Source == ContentSources.Import ? Import.ImportTasks.ContentIdOf(task.Text) : null), project.Id, taskId,
                user.UserId(), DateTimeOffset.UtcNow), ct);
        await tx.CommitAsync(ct);
        return new Outcome<bool>(corrected);
    }

    /// <summary>Accepts every waiting task whose labels all agree; returns how many.</summary>
    public async Task<Outcome<int>> AcceptUnanimousAsync(ClaimsPrincipal user, Guid projectId, CancellationToken ct)
    {
        IReadOnlyList<ReviewItem> waiting;
        await using (var connection = await db.OpenConnectionAsync(ct))
        {
            if (await ProjectAccess.ReachableAsync(connection, projectId, user, ct) is null) return Outcome<int>.Fail(404, "No such project.");
            waiting = await WaitingAsync(connection, projectId, 10_000, user.UserId(), ct);
        }
        var accepted = 0;
        foreach (var item in waiting.Where(w => w.Unanimous))
            if ((await AcceptAsync(user, item.TaskId, null, ct)).Error is null) accepted++;
        return new Outcome<int>(accepted);
    }

    const string WaitingSql = """
        with waiting as (
            select t.id, t.text, t.kind, t.second_review from annotation.tasks t
            where t.project_id = @ProjectId and t.golden is null
              and (t.status = 'review' or (t.status = 'done' and t.second_review and not exists (select 1 from annotation.reviews r where r.task_id = t.id)))
              and not exists (select 1 from annotation.annotations mine where mine.task_id = t.id and mine.user_id = @ReviewerId)
            order by t.created_at limit @Limit)
        select w.id as task_id, w.text, w.kind, w.second_review, n.user_name, n.categories, n.note, n.decision, n.severities::text as severities
        from waiting w join annotation.annotations n on n.task_id = w.id and n.published_at is not null
        order by w.id, n.submitted_at
        """;

    const string TaskSql = """
        select t.status, t.second_review, exists (select 1 from annotation.reviews r where r.task_id = t.id) as reviewed, t.text, t.language, t.source, t.content_id
        from annotation.tasks t where t.id = @TaskId for update
        """;

    const string AcceptSql = """
        insert into annotation.reviews (task_id, reviewer_id, categories, corrected) values (@TaskId, @ReviewerId, @Categories, @Corrected);
        update annotation.tasks set status = 'done', final_categories = @Categories where id = @TaskId;
        """;
}
