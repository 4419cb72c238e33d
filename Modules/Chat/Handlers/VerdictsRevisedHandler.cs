using System.Text.Json;
using BirbalAI.Chat.Messages;
using BirbalAI.Chat.Rooms;
using BirbalAI.Contracts.Annotation;
using BirbalAI.Contracts.Chat;
using BirbalAI.Contracts.Ml;
using BirbalAI.Platform.Messaging;
using Dapper;
using Microsoft.AspNetCore.SignalR;
using Npgsql;

namespace BirbalAI.Chat.Handlers;

/// <summary>
/// Ml applied a re-scoring run: each message still standing, and not edited since it was scored, records the new scores,
/// action and versions. One that was approved, and that no person decided on, is held when it now scores review or reject:
/// it leaves the room and raises <see cref="MessageHeld"/> as a held message does, so it reaches the review workspace.
/// Nothing is released, and a held or rejected message stays so until a person decides. Once per event (the inbox); a
/// redelivery would find the held ones held anyway.
/// </summary>
sealed class VerdictsRevisedHandler(NpgsqlDataSource db, IHubContext<ChatHub> hub) : IIntegrationEventHandler<VerdictsRevised>
{
    public async Task HandleAsync(VerdictsRevised evt, MessageContext context, CancellationToken ct)
    {
        if (evt.Source != ContentSources.ChatMessage) return;
        var withdrawn = new List<(Guid Id, Guid RoomId)>();
        foreach (var v in evt.Verdicts)
        {
            var row = await context.Connection.QuerySingleOrDefaultAsync<Revised?>(new CommandDefinition(ReviseSql, new
            {
                Id = v.ContentId, WrittenAt = v.WrittenAt.UtcDateTime, v.Action, Flagged = v.Flagged.ToArray(), Scores = JsonSerializer.Serialize(v.Scores),
                ModelId = evt.ModelVersionId, evt.ModelVersion, v.PolicyVersion,
            }, context.Transaction, cancellationToken: ct));
            if (row is not { OldStatus: ChatMessages.Approved, Status: ChatMessages.Held }) continue;
            await Outbox.AddAsync(context.Connection, context.Transaction, new MessageHeld(row.Id, row.RoomId, row.AuthorId, row.Text, row.Language,
                v.Scores, evt.ModelVersionId, v.PolicyVersion, DateTimeOffset.UtcNow), ct);
            withdrawn.Add((row.Id, row.RoomId));
        }
        if (withdrawn.Count > 0) context.AfterCommit(async c =>
        {
            await using var connection = await db.OpenConnectionAsync(c);
            foreach (var (id, roomId) in withdrawn)
                await hub.Clients.Users(await RoomAccess.MemberIdsAsync(connection, roomId, c)).SendAsync("message-withdrawn", new { Id = id, RoomId = roomId }, c);
        });
    }

    sealed record Revised(Guid Id, Guid RoomId, Guid AuthorId, string Text, string Language, string OldStatus, string Status);

    // Held only from approved and undecided (a person's release stands); every other status stays as it is.
    const string ReviseSql = """
        with old as (select id, status from chat.messages where id = @Id for update)
        update chat.messages m
           set scores = @Scores::jsonb, action = @Action, flagged = @Flagged, model_id = @ModelId, model_version = @ModelVersion, policy_version = @PolicyVersion,
               status = case when m.status = 'approved' and m.decided_at is null and @Action in ('review', 'reject') then 'held' else m.status end
          from old
         where m.id = old.id and m.status in ('approved', 'held', 'rejected') and coalesce(m.edited_at, m.posted_at) = @WrittenAt
        returning m.id, m.room_id, m.author_id, m.text, m.language, old.status as old_status, m.status
        """;
}
