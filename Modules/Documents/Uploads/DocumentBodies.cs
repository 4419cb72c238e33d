using BirbalAI.Platform.Documents;
using Dapper;
using Npgsql;

namespace BirbalAI.Documents.Uploads;

/// <summary>Answers the document store's sweeper for <see cref="UploadDocument.Bodies"/>: a body is kept while its document's row exists.</summary>
sealed class DocumentBodies(NpgsqlDataSource db) : IDocumentStoreOwner
{
    public string Collection => UploadDocument.Bodies;

    public async Task<IReadOnlySet<Guid>> CommittedAsync(IReadOnlyCollection<Guid> ids, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<Guid>(new CommandDefinition(CommittedSql, new { Ids = ids.ToArray() }, cancellationToken: ct))).ToHashSet();
    }

    const string CommittedSql = "select id from documents.documents where id = any(@Ids)";
}
