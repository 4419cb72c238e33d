using System.Text;
using BirbalAI.Contracts.Chat;
using BirbalAI.Contracts.Identity;
using BirbalAI.Contracts.Ml;
using BirbalAI.Documents.Library;
using BirbalAI.Platform;
using BirbalAI.Platform.Configuration;
using BirbalAI.Platform.Documents;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Npgsql;

namespace BirbalAI.Documents.Uploads;

/// <summary>
/// The demo's documents, uploaded by its members through the upload itself (checks, sealed body, outbox row): the worker
/// moderates them chunk by chunk when the app runs. One has paragraphs the starter model holds, as the conversation does.
/// </summary>
sealed class DemoDocuments(NpgsqlDataSource db, Extraction extraction, IModerator moderator, IChatMembership chat, IDocumentStore store,
    ContentEncryption encryption, IOptions<DocumentsOptions> options) : IDemoContent
{
    public const string Handbook = "Garden club handbook", Notes = "Allotment notes";

    public int Order => 30;

    public async Task<string?> ExistingContentAsync(CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var documents = await connection.ExecuteScalarAsync<long>(new CommandDefinition("select count(*) from documents.documents", cancellationToken: ct));
        return documents > 0 ? $"{documents} document(s)" : null;
    }

    public async Task AddAsync(DemoInstallation demo, CancellationToken ct)
    {
        var members = demo.InRole(Roles.Member).Take(2).ToArray();
        if (members.Length < 2) throw new InvalidOperationException("the demo's people come before its documents");
        await demo.Output.WriteLineAsync("demo: documents (the worker moderates them paragraph by paragraph when the app runs):");
        await UploadAsync(demo, members[0], Handbook, "handbook.txt", DocumentAccess.All, """
            Welcome to the garden club. We meet every Saturday morning at the allotments behind the library.

            Bring gloves and water. Tools are in the green shed; please put them back clean.

            Compost goes in the left bin, weeds with seeds in the right one.
            """, ct);
        // The same threats the starter model holds in the conversation (DemoRooms), between friendly paragraphs.
        await UploadAsync(demo, members[1], Notes, "allotment-notes.txt", DocumentAccess.All, """
            Plot 7: tomatoes, beans and a row of strawberries. Watered on Tuesday.

            Whoever keeps stealing the strawberries, I will find you and you will regret it.

            I swear if you touch my tomatoes again I'll break your fingers.

            Next year: more marigolds around the beans.
            """, ct);
    }

    async Task UploadAsync(DemoInstallation demo, DemoPerson owner, string title, string fileName, string visibility, string text, CancellationToken ct)
    {
        var form = new UploadDocument.Form(Encoding.UTF8.GetBytes(text.ReplaceLineEndings("\n")), fileName, title, visibility, null);
        var result = await UploadDocument.StoreAsync(form, owner.Principal, db, extraction, moderator, chat, store, encryption, options, ct);
        var document = result.Result switch
        {
            Created<UploadDocument.Response> created => created.Value!.Document,
            Ok<UploadDocument.Response> same => same.Value!.Document,
            ProblemHttpResult problem => throw new InvalidOperationException($"demo: {owner.DisplayName} could not upload {title}: {problem.ProblemDetails.Detail}"),
            _ => throw new InvalidOperationException($"demo: {owner.DisplayName} could not upload {title}"),
        };
        await demo.Output.WriteLineAsync($"  {document.Status,-10} {owner.DisplayName}: {title} ({document.Visibility})");
    }
}
