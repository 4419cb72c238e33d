using BirbalAI.Annotation.Tasks;
using BirbalAI.Contracts.Annotation;
using BirbalAI.Contracts.Chat;
using BirbalAI.Platform.Messaging;
using Dapper;

namespace BirbalAI.Annotation.Handlers;

/// <summary>A held chat message becomes a moderation task.</summary>
sealed class MessageHeldHandler(TaskIntake intake) : IIntegrationEventHandler<MessageHeld>
{
    public Task HandleAsync(MessageHeld evt, MessageContext context, CancellationToken ct) =>
        intake.AddAsync(context.Connection, context.Transaction, TaskIntake.FromHeld(evt), ct);
}

/// <summary>A flagged chat message (visible, a "flag" watched word matched) becomes a moderation task.</summary>
sealed class MessageFlaggedHandler(TaskIntake intake) : IIntegrationEventHandler<MessageFlagged>
{
    public Task HandleAsync(MessageFlagged evt, MessageContext context, CancellationToken ct) =>
        intake.AddAsync(context.Connection, context.Transaction, TaskIntake.FromFlagged(evt), ct);
}

/// <summary>A room moderator decided in Chat first: the task closes as "decided in Chat by …"; labels not yet published are dropped with it.</summary>
sealed class MessageDecidedHandler : IIntegrationEventHandler<MessageDecided>
{
    public async Task HandleAsync(MessageDecided evt, MessageContext context, CancellationToken ct)
    {
        var reason = $"decided in Chat by {evt.DecidedByName} ({evt.Decision})";
        if (!await TaskClosing.CloseAsync(context, evt.MessageId, reason, evt.DecidedBy, evt.DecidedByName, ct))
            await TaskIntake.CloseUnseenAsync(context.Connection, context.Transaction, evt.MessageId, reason, ct);
    }
}

/// <summary>The author deleted the message: the task closes.</summary>
sealed class MessageWithdrawnHandler : IIntegrationEventHandler<MessageWithdrawn>
{
    public async Task HandleAsync(MessageWithdrawn evt, MessageContext context, CancellationToken ct)
    {
        const string reason = "withdrawn: its author deleted it";
        if (!await TaskClosing.CloseAsync(context, evt.MessageId, reason, null, null, ct))
            await TaskIntake.CloseUnseenAsync(context.Connection, context.Transaction, evt.MessageId, reason, ct);
    }
}

static class TaskClosing
{
    /// <summary>Closes the message's task if it is still open or waiting for review; false when there is no task for it yet.</summary>
    public static async Task<bool> CloseAsync(MessageContext context, Guid messageId, string reason, Guid? by, string? byName, CancellationToken ct)
    {
        var exists = await context.Connection.ExecuteScalarAsync<bool>(new CommandDefinition(ExistsSql,
            new { Source = ContentSources.ChatMessage, ContentId = messageId }, context.Transaction, cancellationToken: ct));
        if (!exists) return false;
        await context.Connection.ExecuteAsync(new CommandDefinition(CloseSql,
            new { Source = ContentSources.ChatMessage, ContentId = messageId, reason, by, byName }, context.Transaction, cancellationToken: ct));
        return true;
    }

    const string ExistsSql = "select exists (select 1 from annotation.tasks where source = @Source and content_id = @ContentId)";

    const string CloseSql = """
        update annotation.tasks set status = 'closed', closed_reason = @Reason, decided_by = @By, decided_by_name = @ByName, decided_at = now()
        where source = @Source and content_id = @ContentId and status in ('open', 'review');
        update annotation.assignments a set state = 'skipped', skip_reason = 'closed: ' || @Reason
        from annotation.tasks t where t.id = a.task_id and t.source = @Source and t.content_id = @ContentId and a.state = 'reserved';
        """;
}
