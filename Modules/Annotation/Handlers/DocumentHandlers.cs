using BirbalAI.Annotation.Tasks;
using BirbalAI.Contracts.Annotation;
using BirbalAI.Contracts.Documents;
using BirbalAI.Platform.Messaging;

namespace BirbalAI.Annotation.Handlers;

/// <summary>
/// A held document chunk becomes a moderation task. Documents' events carry ids only: the text and verdict come from
/// <see cref="IDocumentReviewSource"/>; a chunk no longer waiting (decided meanwhile) adds none.
/// </summary>
sealed class ChunkHeldHandler(TaskIntake intake, IDocumentReviewSource documents) : IIntegrationEventHandler<ChunkHeld>
{
    public async Task HandleAsync(ChunkHeld evt, MessageContext context, CancellationToken ct)
    {
        if (await documents.ChunkAsync(evt.ChunkId, ct) is { } chunk)
            await intake.AddAsync(context.Connection, context.Transaction, TaskIntake.FromChunk(chunk), ContentSources.DocumentChunk, ct);
    }
}

/// <summary>A flagged document chunk (visible, a "flag" watched word matched) becomes a moderation task.</summary>
sealed class ChunkFlaggedHandler(TaskIntake intake, IDocumentReviewSource documents) : IIntegrationEventHandler<ChunkFlagged>
{
    public async Task HandleAsync(ChunkFlagged evt, MessageContext context, CancellationToken ct)
    {
        if (await documents.ChunkAsync(evt.ChunkId, ct) is { } chunk)
            await intake.AddAsync(context.Connection, context.Transaction, TaskIntake.FromChunk(chunk), ContentSources.DocumentChunk, ct);
    }
}
