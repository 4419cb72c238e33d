using System.Security.Claims;
using System.Text.Json;
using BirbalAI.Annotation.Projects;
using BirbalAI.Annotation.Tasks;
using BirbalAI.Contracts.Annotation;
using BirbalAI.Contracts.Chat;
using BirbalAI.Contracts.Identity;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;

namespace BirbalAI.Annotation.Queue;

/// <summary>A task as its annotator sees it: never the others' labels, never whether it is golden.</summary>
sealed record TaskView(
    Guid Id, Guid ProjectId, string Kind, string Source, Guid? ContentId, string Text, string Language, IReadOnlyDictionary<string, float> Scores,
    string? Action, IReadOnlyList<ExplainedCategory> Explanation, Guid? ExplainedWith, IReadOnlyList<string> Matches, bool Severe, float Severity,
    DateTime CreatedAt, DateTime ReservedUntil, RoomContext? Context);

/// <summary>
/// How far the queue is: tasks still open (counted up to Annotation:ProgressCountLimit; OpenAtLeast when there are more),
/// what this annotator labelled today, severe items revealed today and the limit.
/// </summary>
sealed record Progress(long Open, long LabelledToday, long RevealedToday, int RevealLimit, bool OpenAtLeast = false);

/// <summary>The next task (null when there is none for this annotator), progress, and why the queue serves what it does.</summary>
sealed record NextTask(TaskView? Task, Progress Progress, string? Notice);

sealed record Submitted(Guid AnnotationId, Guid TaskId, IReadOnlyList<string> Categories, string? Decision, DateTime PublishAt);

/// <summary>What an operation came to: a value, or an HTTP status with a reason.</summary>
sealed record Outcome<T>(T? Value, int Status = 200, string? Error = null)
{
    public static Outcome<T> Fail(int status, string error) => new(default, status, error);
}

/// <summary>
/// The labelling queue: one task at a time, ordered by severity then age. A task is reserved for its annotator until the
/// project's reservation timeout; a project with overlap N serves each task to N different people (reservations count
/// until they expire). Golden tasks are mixed in at the project's rate and look like any other. Past the daily limit of
/// revealed severe items, severe tasks are held back and the queue says why. A submission can be undone until it is
/// published (<see cref="AnnotationOptions.UndoSeconds"/>); only then does it act (<see cref="Publisher"/>).
/// </summary>
sealed class LabellingQueue(NpgsqlDataSource db, IChatReviewSource chat, BirbalAI.Contracts.Documents.IDocumentReviewSource documents, IOptions<AnnotationOptions> options)
{
    public async Task<Outcome<NextTask>> NextAsync(ClaimsPrincipal user, Guid projectId, IReadOnlyCollection<Guid> exclude, CancellationToken ct)
    {
        var userId = user.UserId();
        await using var connection = await db.OpenConnectionAsync(ct);
        if (await ProjectAccess.ReachableAsync(connection, projectId, user, ct) is not { } project) return Outcome<NextTask>.Fail(404, "No such project.");
        var excluded = exclude.ToArray();
        var progress = await ProgressAsync(connection, projectId, userId, ct);
        var allowSevere = progress.RevealedToday < progress.RevealLimit;
        string? notice = allowSevere ? null
            : $"You have revealed {progress.RevealedToday} severe items today, the daily limit (Annotation:DailySevereReveals): the queue serves other work until tomorrow (UTC).";

        var taskId = await connection.ExecuteScalarAsync<Guid?>(new CommandDefinition(HeldSql, new { projectId, userId, Exclude = excluded }, cancellationToken: ct));
        if (taskId is null)
        {
            await using var tx = await connection.BeginTransactionAsync(ct);
            var golden = project.GoldenRate > 0 && Random.Shared.NextDouble() < project.GoldenRate;
            var args = new { projectId, userId, Exclude = excluded, AllowSevere = allowSevere, project.Overlap, Golden = golden };
            taskId = await PickAsync(connection, args, tx, ct);
            if (taskId is null && golden)
                taskId = await PickAsync(connection, args with { Golden = false }, tx, ct);
            if (taskId is not null)
                await connection.ExecuteAsync(new CommandDefinition(ReserveSql, new { TaskId = taskId, userId, Minutes = project.ReservationMinutes }, tx, cancellationToken: ct));
            await tx.CommitAsync(ct);
        }
        if (taskId is null)
            return new Outcome<NextTask>(new NextTask(null, progress, notice ?? "Nothing is waiting for you in this project."));
        return new Outcome<NextTask>(new NextTask(await ViewAsync(connection, taskId.Value, userId, ct), progress, notice));
    }

    /// <summary>
    /// The next task for these arguments. Skipping locked tasks keeps two annotators from waiting on each other, but a
    /// task is also locked for a moment while the publisher counts a label on it: when every candidate was locked, the
    /// pick waits for the locks instead of answering "nothing is waiting".
    /// </summary>
    static async Task<Guid?> PickAsync(NpgsqlConnection connection, object args, System.Data.Common.DbTransaction tx, CancellationToken ct) =>
        await connection.ExecuteScalarAsync<Guid?>(new CommandDefinition(PickSql + " skip locked", args, tx, cancellationToken: ct))
        ?? await connection.ExecuteScalarAsync<Guid?>(new CommandDefinition(PickSql, args, tx, cancellationToken: ct));

    /// <summary>The task, if its annotator holds it (a reservation, current or not) or it is theirs to see after submitting.</summary>
    public async Task<Outcome<TaskView>> GetAsync(ClaimsPrincipal user, Guid taskId, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        if (await ReachableTaskAsync(connection, user, taskId, ct) is null) return Outcome<TaskView>.Fail(404, "No such task.");
        var view = await ViewAsync(connection, taskId, user.UserId(), ct);
        return view is null ? Outcome<TaskView>.Fail(404, "No such task.") : new Outcome<TaskView>(view);
    }

    public async Task<Outcome<Submitted>> SubmitAsync(ClaimsPrincipal user, Guid taskId, IReadOnlyList<string>? categories, IReadOnlyDictionary<string, int>? severities,
        string? note, string? decision, CancellationToken ct)
    {
        var userId = user.UserId();
        await using var connection = await db.OpenConnectionAsync(ct);
        if (await ReachableTaskAsync(connection, user, taskId, ct) is not { } project) return Outcome<Submitted>.Fail(404, "No such task.");
        var labels = (categories ?? []).Select(c => c.Trim()).Where(c => c.Length > 0).Distinct().ToList();
        if (labels.Except(project.Labels).ToList() is [_, ..] unknown)
            return Outcome<Submitted>.Fail(400, $"Not a category of this project: {string.Join(", ", unknown)}. Its categories: {string.Join(", ", project.Labels)}.");
        if (severities is not null && severities.FirstOrDefault(s => !labels.Contains(s.Key) || s.Value is < 1 or > 3) is { Key: not null } badSeverity)
            return Outcome<Submitted>.Fail(400, $"Severity of '{badSeverity.Key}': 1 to 3, and only for a category given.");
        if (note?.Length > options.Value.MaxNoteLength)
            return Outcome<Submitted>.Fail(400, $"A note has at most {options.Value.MaxNoteLength} characters (Annotation:MaxNoteLength); this one has {note.Length}.");
        if (decision is not (null or ContentDecided.Release or ContentDecided.Remove))
            return Outcome<Submitted>.Fail(400, "decision: release or remove.");
        // A moderation decision follows the labels unless given: no category applies → release, else remove.
        decision = project.IsModeration ? decision ?? (labels.Count == 0 ? ContentDecided.Release : ContentDecided.Remove) : null;

        await using var tx = await connection.BeginTransactionAsync(ct);
        var state = await connection.QuerySingleOrDefaultAsync<(string State, string Status, string? ClosedReason, long Others)?>(new CommandDefinition(
            HoldSql, new { taskId, userId }, tx, cancellationToken: ct));
        if (state is not { State: "reserved" } s)
            return Outcome<Submitted>.Fail(409, state?.State is "submitted" ? "You labelled this task already." : "Take the task from the queue first (GET …/next): it is not reserved for you.");
        if (s.Status != "open") return Outcome<Submitted>.Fail(409, $"The task is no longer open{(s.ClosedReason is null ? "" : $": {s.ClosedReason}")}; nothing was saved.");
        if (s.Others >= project.Overlap)
            return Outcome<Submitted>.Fail(409, "Your reservation expired and the task went to someone else; nothing was saved.");
        var id = Guid.CreateVersion7();
        var publishAt = await connection.ExecuteScalarAsync<DateTime>(new CommandDefinition(InsertSql, new
        {
            id, taskId, userId, UserName = user.Identity?.Name ?? "someone", Categories = labels.ToArray(),
            Severities = JsonSerializer.Serialize(severities ?? new Dictionary<string, int>()), Note = string.IsNullOrWhiteSpace(note) ? null : note.Trim(),
            decision, options.Value.UndoSeconds,
        }, tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
        return new Outcome<Submitted>(new Submitted(id, taskId, labels, decision, publishAt));
    }

    /// <summary>Undo (U): the annotation is deleted while it is not published yet, and the task is reserved for its annotator again.</summary>
    public async Task<Outcome<Guid>> UndoAsync(ClaimsPrincipal user, Guid annotationId, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var found = await connection.QuerySingleOrDefaultAsync<(Guid TaskId, bool Published, bool Late)?>(new CommandDefinition(UndoFindSql,
            new { annotationId, UserId = user.UserId() }, tx, cancellationToken: ct));
        if (found is not { } a) return Outcome<Guid>.Fail(404, "No such label of yours.");
        if (a.Published || a.Late)
            return Outcome<Guid>.Fail(409, $"Too late to undo: the label was published (the window is {options.Value.UndoSeconds} s, Annotation:UndoSeconds).");
        await connection.ExecuteAsync(new CommandDefinition(UndoSql, new { annotationId, a.TaskId, UserId = user.UserId() }, tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
        return new Outcome<Guid>(a.TaskId);
    }

    /// <summary>Skip (S), with a reason: the task goes to someone else, and never comes back to this annotator.</summary>
    public async Task<Outcome<Guid>> SkipAsync(ClaimsPrincipal user, Guid taskId, string? reason, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(reason)) return Outcome<Guid>.Fail(400, "Say why you skip it (a reason is required).");
        if (reason.Length > options.Value.MaxSkipReasonLength)
            return Outcome<Guid>.Fail(400, $"A skip reason has at most {options.Value.MaxSkipReasonLength} characters (Annotation:MaxSkipReasonLength).");
        await using var connection = await db.OpenConnectionAsync(ct);
        if (await ReachableTaskAsync(connection, user, taskId, ct) is null) return Outcome<Guid>.Fail(404, "No such task.");
        var changed = await connection.ExecuteAsync(new CommandDefinition(SkipSql, new { taskId, UserId = user.UserId(), Reason = reason.Trim() }, cancellationToken: ct));
        return changed == 1 ? new Outcome<Guid>(taskId) : Outcome<Guid>.Fail(409, "The task is not reserved for you.");
    }

    /// <summary>A severe task is revealed (click or hold): counted against the reviewer's daily limit; revealing one again counts once.</summary>
    public async Task<Outcome<Progress>> RevealAsync(ClaimsPrincipal user, Guid taskId, CancellationToken ct)
    {
        var userId = user.UserId();
        await using var connection = await db.OpenConnectionAsync(ct);
        if (await ReachableTaskAsync(connection, user, taskId, ct) is not { } project) return Outcome<Progress>.Fail(404, "No such task.");
        await using var tx = await connection.BeginTransactionAsync(ct);
        // One reviewer's reveals are counted one at a time, so two tabs cannot both take the last one.
        await connection.ExecuteAsync(new CommandDefinition("select pg_advisory_xact_lock(hashtextextended(@Key, 0))", new { Key = $"annotation.reveal:{userId}" }, tx, cancellationToken: ct));
        var already = await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
            "select exists (select 1 from annotation.reveals where user_id = @UserId and task_id = @TaskId)", new { userId, taskId }, tx, cancellationToken: ct));
        var today = await connection.ExecuteScalarAsync<long>(new CommandDefinition(RevealsTodaySql, new { userId }, tx, cancellationToken: ct));
        if (!already && today >= options.Value.DailySevereReveals)
            return Outcome<Progress>.Fail(429, $"You have revealed {today} severe items today, the daily limit (Annotation:DailySevereReveals). Take a break; other work is waiting in the queue.");
        await connection.ExecuteAsync(new CommandDefinition(
            "insert into annotation.reveals (user_id, task_id) values (@UserId, @TaskId) on conflict do nothing", new { userId, taskId }, tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
        return new Outcome<Progress>(await ProgressAsync(connection, project.Id, userId, ct));
    }

    async Task<Progress> ProgressAsync(NpgsqlConnection connection, Guid projectId, Guid userId, CancellationToken ct)
    {
        var cap = options.Value.ProgressCountLimit;
        var (open, labelled, revealed) = await connection.QuerySingleAsync<(long, long, long)>(new CommandDefinition(ProgressSql, new { projectId, userId, Cap = cap + 1 }, cancellationToken: ct));
        return new Progress(Math.Min(open, cap), labelled, revealed, options.Value.DailySevereReveals, open > cap);
    }

    /// <summary>The task's project if <paramref name="user"/> reaches it; null for no such task or one they may not reach.</summary>
    static async Task<ProjectRow?> ReachableTaskAsync(NpgsqlConnection connection, ClaimsPrincipal user, Guid taskId, CancellationToken ct) =>
        await connection.ExecuteScalarAsync<Guid?>(new CommandDefinition("select project_id from annotation.tasks where id = @TaskId", new { taskId }, cancellationToken: ct))
            is { } projectId ? await ProjectAccess.ReachableAsync(connection, projectId, user, ct) : null;

    async Task<TaskView?> ViewAsync(NpgsqlConnection connection, Guid taskId, Guid userId, CancellationToken ct)
    {
        if (await connection.QuerySingleOrDefaultAsync<TaskRow?>(new CommandDefinition(ViewSql, new { taskId, userId }, cancellationToken: ct)) is not { } t) return null;
        var context = t.Source == ContentSources.ChatMessage && t.ContentId is { } messageId
            ? await chat.ContextAsync(messageId, options.Value.ContextMessages, ct)
            : t.Source == ContentSources.DocumentChunk && t.ContentId is { } chunkId
                ? await documents.ContextAsync(chunkId, options.Value.ContextMessages, ct) is { } d
                    // Shown as the room context is: the document's title where the room's name goes, the approved chunks before it.
                    ? new RoomContext(d.ChunkId, d.DocumentId, $"document “{d.Title}”", d.Status, [.. d.Before.Select(text => new ContextMessage(Guid.Empty, "", text, default))])
                    : null
                : null;
        return new TaskView(t.Id, t.ProjectId, t.Kind, t.Source, t.ContentId, t.Text, t.Language,
            JsonSerializer.Deserialize<Dictionary<string, float>>(t.Scores)!, t.Action,
            JsonSerializer.Deserialize<List<ExplainedCategory>>(t.Explanation, TaskIntake.Json) ?? [], t.ExplainedWith, t.Matches, t.Severe, t.Severity,
            t.CreatedAt, t.ReservedUntil ?? DateTime.MinValue, context);
    }

    sealed class TaskRow
    {
        public Guid Id { get; init; }
        public Guid ProjectId { get; init; }
        public string Kind { get; init; } = "";
        public string Source { get; init; } = "";
        public Guid? ContentId { get; init; }
        public string Text { get; init; } = "";
        public string Language { get; init; } = "";
        public string Scores { get; init; } = "{}";
        public string? Action { get; init; }
        public string Explanation { get; init; } = "[]";
        public Guid? ExplainedWith { get; init; }
        public string[] Matches { get; init; } = [];
        public bool Severe { get; init; }
        public float Severity { get; init; }
        public DateTime CreatedAt { get; init; }
        public DateTime? ReservedUntil { get; init; }
    }

    // The annotator's own current reservation comes first (a reload serves the same task); the prefetched one is excluded.
    const string HeldSql = """
        select t.id from annotation.assignments a join annotation.tasks t on t.id = a.task_id
        where a.user_id = @UserId and a.state = 'reserved' and a.expires_at > now() and t.project_id = @ProjectId and t.status = 'open'
          and t.id <> all(@Exclude)
        order by a.reserved_at limit 1
        """;

    // Severity first, then age; never a task this annotator submitted or skipped; room left under the overlap (others' live
    // reservations count); golden tasks only when asked for (they never fill up: everyone labels them).
    const string PickSql = """
        select t.id from annotation.tasks t
        where t.project_id = @ProjectId and t.status = 'open' and (t.golden is not null) = @Golden
          and (@AllowSevere or not t.severe)
          and t.id <> all(@Exclude)
          and not exists (select 1 from annotation.assignments a where a.task_id = t.id and a.user_id = @UserId and a.state <> 'reserved')
          and (@Golden or (select count(*) from annotation.assignments a where a.task_id = t.id and a.user_id <> @UserId
                           and (a.state = 'submitted' or (a.state = 'reserved' and a.expires_at > now()))) < @Overlap)
        order by t.severity desc, t.created_at
        limit 1
        for update of t
        """;

    const string ReserveSql = """
        insert into annotation.assignments (task_id, user_id, state, expires_at) values (@TaskId, @UserId, 'reserved', now() + make_interval(mins => @Minutes))
        on conflict (task_id, user_id) do update set state = 'reserved', reserved_at = now(), expires_at = excluded.expires_at
        """;

    const string HoldSql = """
        select a.state, t.status, t.closed_reason,
            (select count(*) from annotation.assignments o where o.task_id = t.id and o.user_id <> @UserId and t.golden is null
             and (o.state = 'submitted' or (o.state = 'reserved' and o.expires_at > now()))) as others
        from annotation.tasks t join annotation.assignments a on a.task_id = t.id and a.user_id = @UserId
        where t.id = @TaskId
        for update of t
        """;

    const string InsertSql = """
        update annotation.assignments set state = 'submitted' where task_id = @TaskId and user_id = @UserId;
        insert into annotation.annotations (id, task_id, user_id, user_name, categories, severities, note, decision, publish_at)
        values (@Id, @TaskId, @UserId, @UserName, @Categories, @Severities::jsonb, @Note, @Decision, now() + make_interval(secs => @UndoSeconds))
        returning publish_at
        """;

    const string UndoFindSql = """
        select task_id, published_at is not null as published, publish_at <= now() as late
        from annotation.annotations where id = @AnnotationId and user_id = @UserId
        for update
        """;

    const string UndoSql = """
        delete from annotation.annotations where id = @AnnotationId;
        update annotation.assignments a set state = 'reserved', reserved_at = now(), expires_at = now() + make_interval(mins => p.reservation_minutes)
        from annotation.tasks t join annotation.projects p on p.id = t.project_id
        where a.task_id = @TaskId and a.user_id = @UserId and t.id = a.task_id
        """;

    const string SkipSql = """
        update annotation.assignments set state = 'skipped', skip_reason = @Reason
        where task_id = @TaskId and user_id = @UserId and state = 'reserved'
        """;

    const string RevealsTodaySql = "select count(*) from annotation.reveals where user_id = @UserId and revealed_at >= date_trunc('day', now() at time zone 'utc') at time zone 'utc'";

    const string ProgressSql = $"""
        select (select count(*) from (select 1 from annotation.tasks where project_id = @ProjectId and status = 'open' and golden is null limit @Cap) capped),
               (select count(*) from annotation.annotations n join annotation.tasks t on t.id = n.task_id
                where n.user_id = @UserId and t.project_id = @ProjectId and n.submitted_at >= date_trunc('day', now() at time zone 'utc') at time zone 'utc'),
               ({RevealsTodaySql})
        """;

    const string ViewSql = """
        select t.id, t.project_id, t.kind, t.source, t.content_id, t.text, t.language, t.scores::text as scores, t.action, t.explanation::text as explanation,
               t.explained_with, t.matches, t.severe, t.severity, t.created_at, a.expires_at as reserved_until
        from annotation.tasks t left join annotation.assignments a on a.task_id = t.id and a.user_id = @UserId
        where t.id = @TaskId
        """;
}
