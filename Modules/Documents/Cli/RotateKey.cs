using BirbalAI.Documents.Uploads;
using BirbalAI.Platform;
using BirbalAI.Platform.Configuration;
using BirbalAI.Platform.Documents;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace BirbalAI.Documents.Cli;

/// <summary>
/// `documents rotate-key`: after Secrets:EncryptionKey changed (the old one moved to Secrets:PreviousEncryptionKeys), re-seals
/// every document body still under an older key with the current one, and records the key on its row. Safe to run again:
/// bodies already under the current key are left alone. The data-protection key ring is not touched.
/// </summary>
static class RotateKey
{
    const string Usage = "documents rotate-key   re-encrypt document bodies sealed under a previous key with Secrets:EncryptionKey";
    const int Page = 200;

    public static void Add(IServiceCollection services) => services.AddCliVerb(new CliVerb("documents rotate-key", Usage, async (sp, _, _, output) =>
    {
        var (rotated, total) = await RunAsync(sp.GetRequiredService<IDocumentStore>(), sp.GetRequiredService<ContentEncryption>(),
            sp.GetRequiredService<NpgsqlDataSource>(), CancellationToken.None);
        await output.WriteLineAsync($"documents rotate-key: re-encrypted {rotated} of {total} document bodies under key {sp.GetRequiredService<ContentEncryption>().CurrentKeyId}");
        return 0;
    }));

    public static async Task<(int Rotated, int Total)> RunAsync(IDocumentStore store, ContentEncryption encryption, NpgsqlDataSource db, CancellationToken ct)
    {
        int rotated = 0, total = 0;
        Guid? after = null;
        while (true)
        {
            var ids = await store.IdsAsync(UploadDocument.Bodies, after, Page, ct);
            if (ids.Count == 0) break;
            foreach (var id in ids)
            {
                total++;
                if (await store.GetAsync<DocumentBody>(UploadDocument.Bodies, id, ct) is not { } body || body.KeyId == encryption.CurrentKeyId) continue;
                var resealed = new DocumentBody(encryption.Seal(encryption.Open(body.Original)), encryption.Seal(encryption.Open(body.Text)), encryption.CurrentKeyId);
                await using var connection = await db.OpenConnectionAsync(ct);
                await using var tx = await connection.BeginTransactionAsync(ct);
                await store.PutAsync(UploadDocument.Bodies, id, resealed, connection, tx, ct);
                await connection.ExecuteAsync(new CommandDefinition("update documents.documents set key_id = @KeyId where id = @Id",
                    new { Id = id, KeyId = encryption.CurrentKeyId }, tx, cancellationToken: ct));
                await tx.CommitAsync(ct);
                rotated++;
            }
            after = ids[^1];
        }
        return (rotated, total);
    }
}
