using System.Text.Json;
using BirbalAI.Annotation.Projects;
using BirbalAI.Contracts.Ml;
using BirbalAI.Platform.Messaging;
using Dapper;
using Microsoft.Extensions.Options;

namespace BirbalAI.Annotation.Handlers;

/// <summary>
/// Active learning's proposals become tasks in the "Active learning" labelling project (made with the first ones), ordered by
/// how near the reason's score was to its threshold; once per item: a repeated or later proposal of the same content adds none.
/// A severe category (Annotation:SeverePatterns) marks the task severe, so it is blurred and counted as any severe task.
/// </summary>
sealed class TasksProposedHandler(IOptions<AnnotationOptions> options) : IIntegrationEventHandler<TasksProposed>
{
    public async Task HandleAsync(TasksProposed evt, MessageContext context, CancellationToken ct)
    {
        var o = options.Value;
        var project = await ProjectAccess.EnsureActiveLearningAsync(context.Connection, context.Transaction, o.ActiveLearningOverlap, o.ReservationMinutes, ct);
        foreach (var task in evt.Tasks)
        {
            var severe = AnnotationOptions.IsSevere(task.Category, o.SeverePatterns);
            await context.Connection.ExecuteAsync(new CommandDefinition(InsertSql, new
            {
                Id = Guid.CreateVersion7(), ProjectId = project, task.Source, task.ContentId, task.Text, task.Language, Scores = JsonSerializer.Serialize(task.Scores),
                Severe = severe,
                // The queue's order: severe first, then the least certain (nearest its threshold).
                Severity = (severe ? 1f : 0f) + (1f - Math.Min(1f, Math.Abs(task.Score - task.Threshold))),
            }, context.Transaction, cancellationToken: ct));
        }
    }

    const string InsertSql = """
        insert into annotation.tasks (id, project_id, source, content_id, kind, text, language, scores, severe, severity)
        values (@Id, @ProjectId, @Source, @ContentId, 'item', @Text, @Language, @Scores::jsonb, @Severe, @Severity)
        on conflict (project_id, source, content_id) where content_id is not null do nothing
        """;
}
