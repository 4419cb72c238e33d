using BirbalAI.Contracts.Identity;
using BirbalAI.Platform.Messaging;
using Dapper;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;
using Npgsql;

namespace BirbalAI.Documents;

/// <summary>A document's status changed (pushed as "status" to its owner); the language is known once it is processed.</summary>
sealed record StatusChanged(Guid DocumentId, string Status, string? FailureReason, string? Language);

/// <summary>
/// Live document status at /hubs/documents (cookie, JWT or API key; Platform's per-call user check, as every hub). Status
/// changes are pushed by <see cref="LiveStatus"/> to the owner's own connections only (SignalR's user group, keyed by the
/// user id claim: there is no group a caller could join); the hub itself answers what a page missed before it connected.
/// </summary>
[Authorize]
sealed class DocumentsHub(NpgsqlDataSource db, IOptions<DocumentsOptions> options) : Hub
{
    /// <summary>
    /// The current status of those of <paramref name="documentIds"/> the caller owns (others are left out, never refused,
    /// so nothing is learnt about them). A page asks once connected and after a reconnect: what changed meanwhile.
    /// </summary>
    public async Task<IReadOnlyList<StatusChanged>> Statuses(Guid[] documentIds)
    {
        if (documentIds.Length > options.Value.PageSize)
            throw new HubException($"At most {options.Value.PageSize} documents per call (Documents:PageSize).");
        await using var connection = await db.OpenConnectionAsync(Context.ConnectionAborted);
        return (await connection.QueryAsync<StatusChanged>(new CommandDefinition(StatusesSql,
            new { Ids = documentIds, Owner = Context.User!.UserId() }, cancellationToken: Context.ConnectionAborted))).AsList();
    }

    const string StatusesSql = """
        select id as document_id, status, failure_reason, language from documents.documents where id = any(@Ids) and owner_id = @Owner
        """;
}

/// <summary>
/// Tells a document's owner that its status changed, once the change has committed. Through <see cref="IHubContext{THub}"/>
/// and the Redis backplane, so a change made on a worker reaches the owner's browser on whichever web replica it is connected to.
/// </summary>
sealed class LiveStatus(IHubContext<DocumentsHub> hub)
{
    public void AfterCommit(MessageContext context, Guid ownerId, StatusChanged change) =>
        context.AfterCommit(ct => hub.Clients.User(ownerId.ToString()).SendAsync("status", change, ct));
}
