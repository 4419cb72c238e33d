using BirbalAI.Annotation.Projects;
using BirbalAI.Contracts.Annotation;
using BirbalAI.Platform;
using BirbalAI.Platform.Messaging;
using Dapper;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace BirbalAI.Annotation.Queue;

/// <summary>
/// Publishes labels whose undo window has passed, on roles that run workers (replicas share the work: rows are claimed
/// with <c>for update skip locked</c>). In the moderation project the first published decision acts: the task is done and
/// <see cref="ContentDecided"/> (for the owner) and <see cref="LabelAccepted"/> (for Ml) go out through the outbox, in the
/// same transaction (only the labels are claimed: the tasks' rows stay free for the queue, and each update of a task is atomic
/// on its own). In a labelling project a task waits for review once `overlap` people labelled it. A golden task's
/// label is scored against the known answer and changes nothing else. A label of a task closed meanwhile (decided in Chat,
/// withdrawn) is kept, and acts on nothing.
/// </summary>
sealed class Publisher(NpgsqlDataSource db, HostRole role, IOptions<AnnotationOptions> options, ILogger<Publisher> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!role.RunsWorkers) return;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (await PublishDueAsync(stoppingToken) > 0) continue;
                await Task.Delay(options.Value.PublishIntervalMs, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                logger.LogError(e, "Publishing labels failed; retrying");
                await Task.Delay(1000, stoppingToken);
            }
        }
    }

    /// <summary>Publishes up to 100 due labels in one transaction; returns how many.</summary>
    internal async Task<int> PublishDueAsync(CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var due = (await connection.QueryAsync<Due>(new CommandDefinition(DueSql, transaction: tx, cancellationToken: ct))).AsList();
        foreach (var label in due)
        {
            bool? goldenCorrect = label.Golden is { } golden ? golden.Order().SequenceEqual(label.Categories.Order()) : null;
            await connection.ExecuteAsync(new CommandDefinition(StampSql, new { label.Id, GoldenCorrect = goldenCorrect }, tx, cancellationToken: ct));
            if (label.Golden is not null) continue;
            if (label.Kind == ProjectAccess.Moderation)
            {
                var secondReview = label.SecondReviewShare > 0 && Random.Shared.NextDouble() < label.SecondReviewShare;
                var decided = await connection.ExecuteScalarAsync<DateTime?>(new CommandDefinition(DecideSql, new
                {
                    label.TaskId, label.Decision, label.Categories, label.UserId, label.UserName, SecondReview = secondReview,
                }, tx, cancellationToken: ct));
                if (decided is not { } at) continue;   // closed meanwhile, or another label acted first
                var when = new DateTimeOffset(DateTime.SpecifyKind(at, DateTimeKind.Utc));
                if (label.Source is ContentSources.ChatMessage or ContentSources.DocumentChunk && label.ContentId is { } contentId)
                    await Outbox.AddAsync(connection, tx, new ContentDecided(label.Source, contentId, label.Decision!, label.Categories, label.UserId, label.UserName, when), ct);
                await Outbox.AddAsync(connection, tx, new LabelAccepted(label.Text, label.Language, label.Categories, label.Source, label.ContentId,
                    label.ProjectId, label.TaskId, label.UserId, when), ct);
            }
            else
                await connection.ExecuteAsync(new CommandDefinition(CountSql, new { label.TaskId, label.Overlap }, tx, cancellationToken: ct));
        }
        await tx.CommitAsync(ct);
        return due.Count;
    }

    sealed class Due
    {
        public Guid Id { get; init; }
        public Guid TaskId { get; init; }
        public Guid UserId { get; init; }
        public string UserName { get; init; } = "";
        public string[] Categories { get; init; } = [];
        public string? Decision { get; init; }
        public Guid ProjectId { get; init; }
        public string Kind { get; init; } = "";
        public int Overlap { get; init; }
        public float SecondReviewShare { get; init; }
        public string Source { get; init; } = "";
        public Guid? ContentId { get; init; }
        public string Text { get; init; } = "";
        public string Language { get; init; } = "";
        public string[]? Golden { get; init; }
    }

    const string DueSql = """
        select n.id, n.task_id, n.user_id, n.user_name, n.categories, n.decision, t.project_id, p.kind, p.overlap, p.second_review_share,
               t.source, t.content_id, t.text, t.language, t.golden
        from annotation.annotations n
        join annotation.tasks t on t.id = n.task_id
        join annotation.projects p on p.id = t.project_id
        where n.published_at is null and n.publish_at <= now()
        order by n.publish_at
        limit 100
        for update of n skip locked
        """;

    const string StampSql = "update annotation.annotations set published_at = now(), golden_correct = @GoldenCorrect where id = @Id";

    const string DecideSql = """
        update annotation.tasks set status = 'done', outcome = @Decision, final_categories = @Categories, labelled = labelled + 1,
            decided_by = @UserId, decided_by_name = @UserName, decided_at = now(), second_review = @SecondReview
        where id = @TaskId and status = 'open'
        returning decided_at
        """;

    const string CountSql = """
        update annotation.tasks set labelled = labelled + 1, status = case when labelled + 1 >= @Overlap then 'review' else status end
        where id = @TaskId and status = 'open'
        """;
}
