using BirbalAI.Chat.Messages;
using BirbalAI.Contracts.Annotation;
using BirbalAI.Platform.Messaging;

namespace BirbalAI.Chat.Handlers;

/// <summary>A reviewer decided on a chat message in the review workspace: Chat applies it through its own decision code.</summary>
sealed class ContentDecidedHandler(ChatMessages messages) : IIntegrationEventHandler<ContentDecided>
{
    public async Task HandleAsync(ContentDecided evt, MessageContext context, CancellationToken ct)
    {
        if (await messages.ApplyReviewAsync(evt, context.Connection, context.Transaction, ct) is { } view)
            context.AfterCommit(c => messages.AnnounceReviewAsync(view, c));   // the room sees it once it is committed
    }
}
