using System.Security.Claims;
using System.Text.Json;
using BirbalAI.Chat.Rooms;
using BirbalAI.Contracts.Annotation;
using BirbalAI.Contracts.Chat;
using BirbalAI.Contracts.Identity;
using BirbalAI.Contracts.Ml;
using BirbalAI.Platform.Messaging;
using Dapper;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;
using Npgsql;
using RedisRateLimiting;
using StackExchange.Redis;

namespace BirbalAI.Chat.Messages;

/// <summary>A message as its reader may see it. Others only ever get approved ones.</summary>
sealed record MessageView(
    Guid Id, Guid RoomId, Guid AuthorId, string AuthorName, string Text, string Html, string Status,
    IReadOnlyList<string> Flagged, IReadOnlyDictionary<string, float> Scores, DateTime PostedAt, DateTime? EditedAt);

/// <summary>What an operation came to: the message, or an HTTP status with a reason (and, for 429, when to try again).</summary>
sealed record Outcome(MessageView? Message, int Status = 200, string? Error = null, TimeSpan? RetryAfter = null)
{
    public static Outcome Fail(int status, string error) => new(null, status, error);
}

/// <summary>
/// Chat's messages: every new or edited text is moderated (outside the transaction) before anyone else can
/// see it, stored with its verdict, and then delivered live — to the room's members when approved, to its
/// author alone otherwise. Held messages raise <see cref="MessageHeld"/> through the outbox, flagged ones (a "flag" watched
/// word; they stay visible) <see cref="MessageFlagged"/>. Readers see the text as the verdict displays it (censored or replaced).
/// Every path (API, pages) comes through here, so the rules hold on all of them: only a current member of a live
/// (not archived) room writes, edits or deletes, and within the send limit.
/// </summary>
sealed class ChatMessages(NpgsqlDataSource db, IModerator moderator, MarkdownRenderer markdown, IHubContext<ChatHub> hub,
    IAuditLog audit, IOptions<ChatOptions> options, IConnectionMultiplexer redis, IOptions<RedisOptions> redisOptions)
{
    public const string Approved = "approved", Held = "held", Rejected = "rejected", Removed = "removed", Deleted = "deleted";

    public Outcome? CheckText(string? text) =>
        string.IsNullOrWhiteSpace(text) ? Outcome.Fail(400, "Write something first: the message is empty.")
        : text.Length > options.Value.MaxMessageLength ? Outcome.Fail(400, $"A message has at most {options.Value.MaxMessageLength} characters (Chat:MaxMessageLength); this one has {text.Length}.")
        : null;

    public async Task<Outcome> PostAsync(ClaimsPrincipal user, Guid roomId, string? text, CancellationToken ct)
    {
        if (CheckText(text) is { } invalid) return invalid;
        var authorId = user.UserId();
        await using var connection = await db.OpenConnectionAsync(ct);
        if (await WritableAsync(connection, roomId, user, "write in it", ct) is { } closed) return closed;
        if (await ThrottleAsync(authorId, ct) is { } throttled) return throttled;

        var (verdict, refused) = await ModerateAsync(text!, ct);   // outside the transaction
        if (verdict is null) return refused!;
        var id = Guid.CreateVersion7();
        await using var tx = await connection.BeginTransactionAsync(ct);
        var parameters = Columns(text!, verdict);
        parameters.AddDynamicParams(new { id, roomId, authorId, AuthorName = user.Identity?.Name ?? "someone" });
        // Only if the author is still a member of a live room: they may have been removed, or the room archived, during moderation.
        if (await connection.QuerySingleOrDefaultAsync<Row?>(new CommandDefinition(InsertSql, parameters, tx, cancellationToken: ct)) is not { } row)
            return Outcome.Fail(409, "You left the room or it was archived meanwhile; nothing was sent.");
        await RaiseAsync(connection, tx, row, text!, verdict, ct);
        await tx.CommitAsync(ct);
        var view = row.ToView();
        await DeliverAsync(connection, view, ct);
        return new Outcome(view, 201);
    }

    /// <summary>The author edits: moderated again; a clean message that turns toxic is held (and disappears for others).</summary>
    public async Task<Outcome> EditAsync(ClaimsPrincipal user, Guid messageId, string? text, CancellationToken ct)
    {
        if (CheckText(text) is { } invalid) return invalid;
        await using var connection = await db.OpenConnectionAsync(ct);
        var current = await FindAsync(connection, messageId, ct);
        if (current is null || current.AuthorId != user.UserId() || current.Status is Removed or Deleted) return Outcome.Fail(404, "No such message of yours.");
        if (await WritableAsync(connection, current.RoomId, user, "edit your messages there", ct) is { } closed) return closed;
        if (current.Status == Held) return Outcome.Fail(409, "The message is waiting for review; it cannot be edited until then.");
        if (await ThrottleAsync(current.AuthorId, ct) is { } throttled) return throttled;

        var (verdict, refused) = await ModerateAsync(text!, ct);
        if (verdict is null) return refused!;
        await using var tx = await connection.BeginTransactionAsync(ct);
        var parameters = Columns(text!, verdict);
        parameters.AddDynamicParams(new { Id = messageId, current.AuthorId });
        // Only if nobody held, removed or deleted it while it was being moderated, and its author is still a member of a live room.
        if (await connection.QuerySingleOrDefaultAsync<Row?>(new CommandDefinition(UpdateSql, parameters, tx, cancellationToken: ct)) is not { } row)
            return Outcome.Fail(409, "The message changed while you were editing it; reload and try again.");
        await RaiseAsync(connection, tx, row, text!, verdict, ct);
        await tx.CommitAsync(ct);
        var view = row.ToView();
        if (current.Status == Approved && view.Status != Approved) await WithdrawAsync(connection, view, ct);
        await DeliverAsync(connection, view, ct);
        return new Outcome(view);
    }

    static readonly Outcome Unavailable = Outcome.Fail(503, "Messages cannot be checked right now (no moderation model is in production); nothing was sent. Try again later.");

    /// <summary>The verdict, or why there is none (no model to judge with, a text that grows too large to check): then nothing is stored or shown.</summary>
    async Task<(ModerationVerdict? Verdict, Outcome? Refused)> ModerateAsync(string text, CancellationToken ct)
    {
        try { return (await moderator.ModerateAsync(text, ct), null); }
        catch (NoProductionModelException) { return (null, Unavailable); }
        catch (TextTooLargeException e) { return (null, Outcome.Fail(400, $"The message cannot be checked: it {e.Detail}. Nothing was sent.")); }
    }

    /// <summary>
    /// Null when <paramref name="user"/> may write in the room now (posting, editing, deleting alike); else the refusal:
    /// 404 for a room they may not know of, 403 for one they are not (or no longer) in, 409 for an archived one.
    /// </summary>
    static async Task<Outcome?> WritableAsync(NpgsqlConnection connection, Guid roomId, ClaimsPrincipal user, string what, CancellationToken ct)
    {
        if (await RoomAccess.GetAsync(connection, roomId, user.UserId(), ct) is not { } room || !room.IsVisibleTo(user)) return Outcome.Fail(404, "No such room.");
        if (!room.IsMember) return Outcome.Fail(403, $"Join the room to {what}.");
        if (room.Archived) return Outcome.Fail(409, "The room is archived: it is read-only.");
        return null;
    }

    /// <summary>
    /// Null within the send limit (Chat:SendLimit per Chat:SendWindowSeconds, per person, new and edited messages alike);
    /// else a 429 with when to try again. In Redis, so every replica and every path (API, pages) counts against one window.
    /// </summary>
    async Task<Outcome?> ThrottleAsync(Guid authorId, CancellationToken ct)
    {
        var o = options.Value;
        await using var limiter = new RedisFixedWindowRateLimiter<string>($"{redisOptions.Value.KeyPrefix}chat-send:{authorId}",
            new RedisFixedWindowRateLimiterOptions
            {
                ConnectionMultiplexerFactory = () => redis,
                PermitLimit = o.SendLimit,
                Window = TimeSpan.FromSeconds(o.SendWindowSeconds),
            });
        using var lease = await limiter.AcquireAsync(1, ct);
        if (lease.IsAcquired) return null;
        var wait = lease.TryGetMetadata(System.Threading.RateLimiting.MetadataName.RetryAfter, out var retry) ? retry : TimeSpan.FromSeconds(o.SendWindowSeconds);
        var seconds = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
        return new Outcome(null, 429, $"You are sending too fast: at most {o.SendLimit} messages (new or edited) per {o.SendWindowSeconds} s "
            + $"(Chat:SendLimit, Chat:SendWindowSeconds). Nothing was sent; try again in {seconds} s.", TimeSpan.FromSeconds(seconds));
    }

    /// <summary>The author deletes their message: gone for everyone. Only while they are a member of the room and it is live.</summary>
    public async Task<Outcome> DeleteAsync(ClaimsPrincipal user, Guid messageId, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var current = await FindAsync(connection, messageId, ct);
        if (current is null || current.AuthorId != user.UserId() || current.Status is Removed or Deleted) return Outcome.Fail(404, "No such message of yours.");
        if (await WritableAsync(connection, current.RoomId, user, "delete your messages there", ct) is { } closed) return closed;
        if (await DeleteAndTellAsync(connection, current, ct) is not { } row)
            return Outcome.Fail(409, "You left the room, it was archived or the message was decided on meanwhile; nothing was deleted.");
        var view = row.ToView();
        await WithdrawAsync(connection, view, ct);
        return new Outcome(view);
    }

    // The delete and its event commit together: a task for it never outlives the message.
    async Task<Row?> DeleteAndTellAsync(NpgsqlConnection connection, Row current, CancellationToken ct)
    {
        await using var tx = await connection.BeginTransactionAsync(ct);
        var row = await connection.QuerySingleOrDefaultAsync<Row?>(new CommandDefinition(DeleteSql,
            new { current.Id, current.AuthorId, Status = Deleted, From = new[] { Approved, Held, Rejected } }, tx, cancellationToken: ct));
        if (row is null) return null;
        if (current.AwaitingReview) await Outbox.AddAsync(connection, tx, new MessageWithdrawn(current.Id, current.RoomId, DateTimeOffset.UtcNow), ct);
        // Its author took it back: its text leaves Ml's datasets too.
        await Outbox.AddAsync(connection, tx, new ContentRemoved(current.Id, current.AuthorId, DateTimeOffset.UtcNow), ct);
        await tx.CommitAsync(ct);
        return row;
    }

    /// <summary>A reviewer releases a held message: it appears live in the room at its original place.</summary>
    public Task<Outcome> ReleaseAsync(ClaimsPrincipal user, Guid messageId, CancellationToken ct) => DecideAsync(user, messageId, Approved, ct);

    /// <summary>A reviewer (room moderator or Admin) removes a held or published message; its author is told.</summary>
    public Task<Outcome> RemoveAsync(ClaimsPrincipal user, Guid messageId, CancellationToken ct) => DecideAsync(user, messageId, Removed, ct);

    async Task<Outcome> DecideAsync(ClaimsPrincipal user, Guid messageId, string status, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var current = await FindAsync(connection, messageId, ct);
        if (current is null) return Outcome.Fail(404, "No such message.");
        var room = (await RoomAccess.GetAsync(connection, current.RoomId, user.UserId(), ct))!;
        if (!room.CanModerate(user)) return room.IsVisibleTo(user) && room.IsMember ? Outcome.Fail(403, "Only the room's moderators and Admins decide on messages.") : Outcome.Fail(404, "No such message.");
        if (status == Approved && current.Status != Held) return Outcome.Fail(409, $"Only a held message can be released; this one is {current.Status}.");
        if (status == Removed && current.Status is not (Held or Approved)) return Outcome.Fail(409, $"This message is {current.Status}: there is nothing to remove.");

        await using var tx = await connection.BeginTransactionAsync(ct);
        // Two reviewers at once: the second finds the status changed and is told so, nothing is decided twice. Only from the
        // status checked above: a removal decided on a held message never lands on one a colleague released meanwhile.
        if (await connection.QuerySingleOrDefaultAsync<Row?>(new CommandDefinition(DecideSql, new { Id = messageId, status, By = user.UserId(), From = new[] { current.Status } }, tx, cancellationToken: ct)) is not { } row)
            return Outcome.Fail(409, "Someone decided on this message meanwhile.");
        await audit.RecordAsync(user, status == Approved ? "chat.message-released" : "chat.message-removed", $"message {messageId}",
            new Dictionary<string, string?> { ["room"] = room.Name, ["author"] = current.AuthorName, ["was"] = current.Status }, tx, ct);
        // A held or flagged message has a task in the review workspace: it closes as decided here.
        if (current.AwaitingReview)
            await Outbox.AddAsync(connection, tx, new MessageDecided(messageId, current.RoomId, status == Approved ? ContentDecided.Release : ContentDecided.Remove,
                user.UserId(), user.Identity?.Name ?? "someone", DateTimeOffset.UtcNow), ct);
        await tx.CommitAsync(ct);
        await AnnounceAsync(connection, row.ToView(), ct);
        return new Outcome(row.ToView());
    }

    async Task AnnounceAsync(NpgsqlConnection connection, MessageView view, CancellationToken ct)
    {
        if (view.Status == Approved) await DeliverAsync(connection, view, ct);
        else
        {
            await WithdrawAsync(connection, view, ct);
            await hub.Clients.User(view.AuthorId.ToString()).SendAsync("message", view, ct);   // the author is told
        }
    }

    /// <summary>
    /// A reviewer's decision from the review workspace (<see cref="ContentDecided"/>), in the consumer's transaction (its inbox
    /// row commits with it, so a redelivery changes nothing). The reviewer is the decider and the audit entry says "via review
    /// workspace"; the room-moderator check does not apply (Annotators and Admins review every room). Only a message still
    /// waiting is decided: one a room moderator decided first, or its author deleted, stays as it is. Releasing a flagged
    /// message (visible all along) records the decision and leaves it in the room. Returns the message when it changed.
    /// </summary>
    public async Task<MessageView?> ApplyReviewAsync(ContentDecided decision, NpgsqlConnection connection, NpgsqlTransaction tx, CancellationToken ct)
    {
        if (decision.Source != ContentSources.ChatMessage) return null;
        var current = await FindAsync(connection, decision.ContentId, ct, tx);
        if (current is null || !current.AwaitingReview) return null;
        var status = decision.Decision switch
        {
            ContentDecided.Release => Approved,
            ContentDecided.Remove => Removed,
            _ => throw new InvalidOperationException($"Unknown decision '{decision.Decision}' (release or remove)."),
        };
        if (await connection.QuerySingleOrDefaultAsync<Row?>(new CommandDefinition(DecideSql,
                new { current.Id, status, By = decision.DecidedBy, From = new[] { current.Status } }, tx, cancellationToken: ct)) is not { } row)
            return null;
        var room = await RoomAccess.GetAsync(connection, current.RoomId, decision.DecidedBy, ct, tx);
        await audit.RecordAsync(new AuditEntry(status == Approved ? "chat.message-released" : "chat.message-removed", decision.DecidedBy, $"message {current.Id}",
            new Dictionary<string, string?>
            {
                ["room"] = room?.Name, ["author"] = current.AuthorName, ["was"] = current.Status, ["via"] = "review workspace",
                ["by"] = decision.DecidedByName, ["categories"] = string.Join(", ", decision.Categories),
            }), tx, ct);
        return row.ToView();
    }

    /// <summary>After the review decision committed: the room (or the author) sees it live.</summary>
    public async Task AnnounceReviewAsync(MessageView view, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await AnnounceAsync(connection, view, ct);
    }

    /// <summary>
    /// History the reader may see, newest first before <paramref name="before"/>: approved messages, plus the reader's
    /// own held and rejected ones. Others' held, rejected, removed or deleted messages never come back.
    /// </summary>
    public static async Task<IReadOnlyList<MessageView>> HistoryAsync(NpgsqlConnection connection, Guid roomId, Guid readerId, Guid? before, int limit, CancellationToken ct) =>
        [.. (await connection.QueryAsync<Row>(new CommandDefinition(HistorySql, new { roomId, readerId, before, limit }, cancellationToken: ct)))
            .Select(r => r.ToView()).Reverse()];

    public static async Task<IReadOnlyList<MessageView>> HeldAsync(NpgsqlConnection connection, Guid reviewerId, bool admin, CancellationToken ct) =>
        [.. (await connection.QueryAsync<Row>(new CommandDefinition(HeldSql, new { reviewerId, admin }, cancellationToken: ct))).Select(r => r.ToView())];

    /// <summary>Approved: to every member of the room (on every replica, through the Redis backplane). Otherwise: to its author only.</summary>
    async Task DeliverAsync(NpgsqlConnection connection, MessageView view, CancellationToken ct)
    {
        if (view.Status == Approved) await hub.Clients.Users(await RoomAccess.MemberIdsAsync(connection, view.RoomId, ct)).SendAsync("message", view, ct);
        else await hub.Clients.User(view.AuthorId.ToString()).SendAsync("message", view, ct);
    }

    async Task WithdrawAsync(NpgsqlConnection connection, MessageView view, CancellationToken ct) =>
        await hub.Clients.Users(await RoomAccess.MemberIdsAsync(connection, view.RoomId, ct))
            .SendAsync("message-withdrawn", new { view.Id, view.RoomId }, ct);

    /// <summary>
    /// The text and everything its verdict puts on the row: status, action, flagged categories, scores, language, versions,
    /// and the watched words' part: the text readers see (censored or replaced; rendered as the message's HTML), the matches, the flag.
    /// </summary>
    DynamicParameters Columns(string text, ModerationVerdict verdict) => new(new
    {
        Text = text, verdict.DisplayText, Html = markdown.ToHtml(verdict.DisplayText ?? text), Status = verdict.Action.ToContentStatus(), Action = verdict.Action.Name(),
        // What held or refused it: the categories, then the watched words that block or hold ("watched word: …"; its author wrote it).
        Flagged = verdict.Categories.Where(c => c.Action != ModerationAction.Approve).Select(c => c.Category)
            .Concat(verdict.Matches.Where(m => m.Action is "block" or "require-approval").Select(m => m.Explanation)).Distinct().ToArray(),
        Scores = JsonSerializer.Serialize(verdict.Scores), verdict.Language, ModelId = verdict.Model.Id, ModelVersion = verdict.Model.Number, verdict.PolicyVersion,
        Watched = JsonSerializer.Serialize(verdict.Matches), verdict.FlaggedForReview,
    });

    /// <summary>In the transaction that stores the message: held ones raise <see cref="MessageHeld"/>; approved ones a "flag" word matched, <see cref="MessageFlagged"/>.</summary>
    static async Task RaiseAsync(NpgsqlConnection connection, NpgsqlTransaction tx, Row row, string text, ModerationVerdict verdict, CancellationToken ct)
    {
        if (verdict.Action == ModerationAction.Review)
            await Outbox.AddAsync(connection, tx, new MessageHeld(row.Id, row.RoomId, row.AuthorId, text, verdict.Language,
                verdict.Scores, verdict.Model.Id, verdict.PolicyVersion, DateTimeOffset.UtcNow), ct);
        else if (verdict.Action == ModerationAction.Approve && verdict.FlaggedForReview)
            await Outbox.AddAsync(connection, tx, new MessageFlagged(row.Id, row.RoomId, row.AuthorId, text, verdict.Language,
                verdict.Scores, [.. verdict.Matches.Select(m => m.Explanation)], verdict.Model.Id, verdict.PolicyVersion, DateTimeOffset.UtcNow), ct);
    }

    static Task<Row?> FindAsync(NpgsqlConnection connection, Guid id, CancellationToken ct, NpgsqlTransaction? tx = null) =>
        connection.QuerySingleOrDefaultAsync<Row?>(new CommandDefinition($"select {RowColumns} from chat.messages where id = @Id", new { id }, tx, cancellationToken: ct));

    sealed class Row
    {
        public Guid Id { get; init; }
        public Guid RoomId { get; init; }
        public Guid AuthorId { get; init; }
        public string AuthorName { get; init; } = "";
        public string Text { get; init; } = "";
        public string Html { get; init; } = "";
        public string Status { get; init; } = "";
        public string[] Flagged { get; init; } = [];
        public string Scores { get; init; } = "{}";
        public DateTime PostedAt { get; init; }
        public DateTime? EditedAt { get; init; }
        public bool AwaitingReview { get; init; }

        public MessageView ToView() => new(Id, RoomId, AuthorId, AuthorName, Text, Html, Status, Flagged,
            JsonSerializer.Deserialize<Dictionary<string, float>>(Scores)!, PostedAt, EditedAt);
    }

    // Readers (the author too) get the text as shown: censored or replaced watched words never leave the server as written.
    const string RowColumns = $"id, room_id, author_id, author_name, coalesce(display_text, text) as text, html, status, flagged, scores::text as scores, posted_at, edited_at, {AwaitingReviewSql} as awaiting_review";

    /// <summary>
    /// Waiting for a decision: held, or flagged (visible, sent to review) and not decided since it was last written.
    /// </summary>
    public const string AwaitingReviewSql = "(status = 'held' or (status = 'approved' and flagged_for_review and (decided_at is null or decided_at < coalesce(edited_at, posted_at))))";

    // The author writes only as a current member of a live room: checked again in the very statement that writes.
    const string InsertSql = $"""
        insert into chat.messages (id, room_id, author_id, author_name, text, display_text, html, status, action, flagged, scores, language, model_id, model_version, policy_version,
            watched, flagged_for_review)
        select @Id, @RoomId, @AuthorId, @AuthorName, @Text, @DisplayText, @Html, @Status, @Action, @Flagged, @Scores::jsonb, @Language, @ModelId, @ModelVersion, @PolicyVersion,
            @Watched::jsonb, @FlaggedForReview
        where exists (select 1 from chat.members me join chat.rooms r on r.id = me.room_id
                      where me.room_id = @RoomId and me.user_id = @AuthorId and r.archived_at is null)
        returning {RowColumns}
        """;

    const string UpdateSql = $"""
        update chat.messages m set text = @Text, display_text = @DisplayText, html = @Html, status = @Status, action = @Action, flagged = @Flagged, scores = @Scores::jsonb,
            language = @Language, model_id = @ModelId, model_version = @ModelVersion, policy_version = @PolicyVersion,
            watched = @Watched::jsonb, flagged_for_review = @FlaggedForReview, edited_at = now()
        where m.id = @Id and m.author_id = @AuthorId and m.status in ('approved', 'rejected')
          and exists (select 1 from chat.members me join chat.rooms r on r.id = me.room_id
                      where me.room_id = m.room_id and me.user_id = @AuthorId and r.archived_at is null)
        returning {RowColumns}
        """;

    const string DeleteSql = $"""
        update chat.messages m set status = @Status, decided_at = now(), decided_by = @AuthorId
        where m.id = @Id and m.author_id = @AuthorId and m.status = any(@From)
          and exists (select 1 from chat.members me join chat.rooms r on r.id = me.room_id
                      where me.room_id = m.room_id and me.user_id = @AuthorId and r.archived_at is null)
        returning {RowColumns}
        """;

    const string DecideSql = $"""
        update chat.messages set status = @Status, decided_at = now(), decided_by = @By where id = @Id and status = any(@From)
        returning {RowColumns}
        """;

    // Security: others' messages only when approved; the reader's own also when held or rejected.
    const string HistorySql = $"""
        select {RowColumns} from chat.messages
        where room_id = @RoomId and (@Before::uuid is null or id < @Before)
          and (status = 'approved' or (author_id = @ReaderId and status in ('held', 'rejected')))
        order by id desc limit @Limit
        """;

    const string HeldSql = $"""
        select {RowColumns} from chat.messages m
        where m.status = 'held'
          and (@Admin or exists (select 1 from chat.members me where me.room_id = m.room_id and me.user_id = @ReviewerId and me.role = 'moderator'))
        order by m.id limit 200
        """;
}
