using System.Security.Claims;
using System.Security.Cryptography;
using BirbalAI.Contracts.Chat;
using BirbalAI.Contracts.Documents;
using BirbalAI.Contracts.Identity;
using BirbalAI.Contracts.Ml;
using BirbalAI.Documents.Library;
using BirbalAI.Platform.Configuration;
using BirbalAI.Platform.Documents;
using BirbalAI.Platform.Messaging;
using Dapper;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using Npgsql;

namespace BirbalAI.Documents.Uploads;

/// <summary>What the original file and extracted text look like in the document store: both sealed (AES-GCM) under <see cref="KeyId"/>.</summary>
sealed record DocumentBody(string Original, string Text, string KeyId);

/// <summary>
/// POST /api/documents (multipart/form-data: "file", optional "title", "visibility" private | room | all, "roomId").
/// The request is read as a stream, the file part counted against Documents:MaxUploadBytes as it arrives. Everything that can
/// refuse a file runs before anything is written: its type from its bytes, its text (corrupt, encrypted, bomb-like: refused),
/// the per-person count, and the moderation of its title and file name. Then the document, its sealed body and the outbox
/// row that starts processing commit in one transaction. The same file again from the same person is the same document.
/// With the MongoDB document store the body cannot join that transaction: it is written after the row's insert (so a
/// duplicate never writes one) and before the commit of the row and its outbox row, so whoever finds the row, or hears of it,
/// finds its body; a body whose transaction then fails is an orphan the store's sweeper removes.
/// </summary>
static class UploadDocument
{
    public const string Bodies = "documents.bodies";
    const int MaxFieldBytes = 4096;

    public sealed record Response(DocumentView Document, bool Duplicate);

    public static void Map(RouteGroupBuilder documents) => documents.MapPost("/", Handle)
        .WithSummary("Upload a document (multipart/form-data: file, title, visibility private|room|all, roomId); it is moderated chunk by chunk in the background")
        .Produces<Response>(200).Produces<Response>(201)
        .ProducesProblem(400).ProducesProblem(409).ProducesProblem(413).ProducesProblem(415).ProducesProblem(422).ProducesProblem(503);

    static async Task<Results<Created<Response>, Ok<Response>, ProblemHttpResult>> Handle(HttpRequest request, ClaimsPrincipal user, NpgsqlDataSource db,
        Extraction extraction, IModerator moderator, IChatMembership chat, IDocumentStore store, ContentEncryption encryption,
        IOptions<DocumentsOptions> options, CancellationToken ct)
    {
        Form form;
        try { form = await ReadAsync(request, options.Value.MaxUploadBytes, ct); }
        catch (RefusedFileException e) { return Problem(e.Status, e.Message); }
        return await StoreAsync(form, user, db, extraction, moderator, chat, store, encryption, options, ct);
    }

    /// <summary>
    /// The upload once its form is read (the API, and the demo uploading as one of its people): every check, then the document,
    /// its sealed body and the outbox row that starts processing in one transaction.
    /// </summary>
    public static async Task<Results<Created<Response>, Ok<Response>, ProblemHttpResult>> StoreAsync(Form form, ClaimsPrincipal user, NpgsqlDataSource db,
        Extraction extraction, IModerator moderator, IChatMembership chat, IDocumentStore store, ContentEncryption encryption,
        IOptions<DocumentsOptions> options, CancellationToken ct)
    {
        var o = options.Value;
        if (form.File is not { } bytes) return Problem(400, "Send the file as the multipart/form-data part named \"file\".");
        if (bytes.Length == 0) return Problem(400, "The file is empty.");
        var fileName = Path.GetFileName(form.FileName ?? "").Trim() is { Length: > 0 } n ? n : "untitled";
        var title = (string.IsNullOrWhiteSpace(form.Title) ? fileName : form.Title).Trim();
        if (title.Length > o.MaxTitleLength) return Problem(400, $"A title has at most {o.MaxTitleLength} characters (Documents:MaxTitleLength); this one has {title.Length}.");
        var visibility = string.IsNullOrWhiteSpace(form.Visibility) ? DocumentAccess.Private : form.Visibility.Trim().ToLowerInvariant();
        if (visibility is not (DocumentAccess.Private or DocumentAccess.Room or DocumentAccess.All))
            return Problem(400, "visibility is private, room (with roomId) or all.");
        Guid? roomId = null;
        if (visibility == DocumentAccess.Room)
        {
            if (!Guid.TryParse(form.RoomId, out var room)) return Problem(400, "Sharing with a room needs its roomId.");
            if (!(await chat.RoomsOfAsync(user.UserId(), ct)).Any(r => r.RoomId == room)) return Problem(400, "You can only share with a chat room you are a member of.");
            roomId = room;
        }
        else if (!string.IsNullOrWhiteSpace(form.RoomId)) return Problem(400, "roomId goes only with visibility room.");

        var ownerId = user.UserId();
        var hash = Convert.ToHexStringLower(SHA256.HashData(bytes));
        await using var connection = await db.OpenConnectionAsync(ct);
        if (await FindAsync(connection, ownerId, hash, ct) is { } same) return TypedResults.Ok(new Response(same, true));
        var count = await connection.ExecuteScalarAsync<long>(new CommandDefinition("select count(*) from documents.documents where owner_id = @ownerId", new { ownerId }, cancellationToken: ct));
        if (count >= o.MaxDocumentsPerUser)
            return Problem(409, $"You have {count} documents, the most one person may keep (Documents:MaxDocumentsPerUser). Nothing was stored.");

        Extracted extracted;
        try { extracted = extraction.Extract(bytes); }
        catch (RefusedFileException e) { return Problem(e.Status, e.Message); }

        // The title and file name are content too: moderated before anything is stored; held or refused ones are not taken.
        try
        {
            var verdicts = await moderator.ModerateAsync([title, fileName], null, ct);
            if (verdicts.Select((v, i) => (v, What: i == 0 ? "title" : "file name")).FirstOrDefault(x => x.v.Action != ModerationAction.Approve) is { v: not null } bad)
                return Problem(422, $"The {bad.What} was {(bad.v.Action == ModerationAction.Reject ? "refused" : "held")} by moderation ({string.Join(", ", bad.v.Categories.Where(c => c.Action != ModerationAction.Approve).Select(c => c.Category))}); choose another. Nothing was stored.");
        }
        catch (NoProductionModelException) { return Problem(503, "Documents cannot be checked right now (no moderation model is in production); nothing was stored. Try again later."); }
        catch (TextTooLargeException e) { return Problem(400, $"The title cannot be checked: it {e.Detail}."); }

        var id = Guid.CreateVersion7();
        await using (var tx = await connection.BeginTransactionAsync(ct))
        {
            var inserted = await connection.QuerySingleOrDefaultAsync<DocumentView?>(new CommandDefinition(InsertSql, new
            {
                id, ownerId, OwnerName = user.Identity?.Name ?? "someone", title, fileName, extracted.Type, Size = (long)bytes.Length, ContentHash = hash,
                extracted.Pages, extracted.Note, visibility, roomId, KeyId = encryption.CurrentKeyId,
            }, tx, cancellationToken: ct));
            if (inserted is null)   // the same file, uploaded at the same moment by the same person
            {
                await tx.RollbackAsync(ct);
                return TypedResults.Ok(new Response((await FindAsync(connection, ownerId, hash, ct))!, true));
            }
            // PostgreSQL: in this transaction. MongoDB: written now, before the commit below (see the summary).
            await store.PutAsync(Bodies, id, new DocumentBody(encryption.Seal(bytes), encryption.SealText(extracted.Text), encryption.CurrentKeyId), connection, tx, ct);
            await Outbox.AddAsync(connection, tx, new DocumentUploaded(id, ownerId, DateTimeOffset.UtcNow), ct);
            await tx.CommitAsync(ct);
            return TypedResults.Created($"/api/documents/{id}", new Response(inserted, false));
        }
    }

    public sealed record Form(byte[]? File, string? FileName, string? Title, string? Visibility, string? RoomId);

    /// <summary>Reads the multipart body as it streams in; the file part stops at <paramref name="maxFileBytes"/> (413).</summary>
    static async Task<Form> ReadAsync(HttpRequest request, long maxFileBytes, CancellationToken ct)
    {
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var type) || !type.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase)
            || HeaderUtilities.RemoveQuotes(type.Boundary).Value is not { Length: > 0 and <= 200 } boundary)
            throw new RefusedFileException(400, "Send the document as multipart/form-data with the file in a part named \"file\".");
        var reader = new MultipartReader(boundary, request.Body) { HeadersLengthLimit = 16 * 1024 };
        byte[]? file = null;
        string? fileName = null, title = null, visibility = null, roomId = null;
        try
        {
            while (await reader.ReadNextSectionAsync(ct) is { } section)
            {
                if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition)) continue;
                var name = HeaderUtilities.RemoveQuotes(disposition.Name).Value;
                if (name == "file" && disposition.IsFileDisposition())
                {
                    if (file is not null) throw new RefusedFileException(400, "Send one file per upload.");
                    fileName = HeaderUtilities.RemoveQuotes(disposition.FileNameStar).Value is { Length: > 0 } star ? star : HeaderUtilities.RemoveQuotes(disposition.FileName).Value;
                    file = await ReadBoundedAsync(section.Body, maxFileBytes, "The file", "Documents:MaxUploadBytes", 413, ct);
                }
                else
                {
                    var value = System.Text.Encoding.UTF8.GetString(await ReadBoundedAsync(section.Body, MaxFieldBytes, $"The field \"{name}\"", null, 400, ct));
                    switch (name)
                    {
                        case "title": title = value; break;
                        case "visibility": visibility = value; break;
                        case "roomId": roomId = value; break;
                    }
                }
            }
        }
        catch (IOException e) when (e is not EndOfStreamException)
        {
            throw new RefusedFileException(400, $"The multipart body could not be read: {e.Message}");
        }
        catch (InvalidDataException e)
        {
            throw new RefusedFileException(400, $"The multipart body is malformed: {e.Message}");
        }
        return new Form(file, fileName, title, visibility, roomId);
    }

    static async Task<byte[]> ReadBoundedAsync(Stream body, long max, string what, string? setting, int status, CancellationToken ct)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await body.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + read > max)
                throw new RefusedFileException(status, $"{what} is larger than {max} bytes{(setting is null ? "" : $" ({setting})")}. Nothing was stored.");
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }

    static Task<DocumentView?> FindAsync(NpgsqlConnection connection, Guid ownerId, string hash, CancellationToken ct) =>
        connection.QuerySingleOrDefaultAsync<DocumentView?>(new CommandDefinition($"select {Columns} from documents.documents where owner_id = @ownerId and content_hash = @hash",
            new { ownerId, hash }, cancellationToken: ct));

    public static ProblemHttpResult Problem(int status, string detail) => TypedResults.Problem(detail, statusCode: status, title: status switch
    {
        400 => "Invalid request",
        403 => "Not allowed",
        404 => "Not found",
        409 => "Conflict",
        413 => "File too large",
        415 => "Unsupported file type",
        422 => "File refused",
        503 => "Unavailable",
        _ => null,
    });

    const string Columns = "id, owner_id, owner_name, title, file_name, type, size, pages, note, status, failure_reason, language, visibility, room_id, created_at, processed_at";

    const string InsertSql = $"""
        insert into documents.documents (id, owner_id, owner_name, title, file_name, type, size, content_hash, pages, note, status, visibility, room_id, key_id)
        values (@Id, @OwnerId, @OwnerName, @Title, @FileName, @Type, @Size, @ContentHash, @Pages, @Note, 'processing', @Visibility, @RoomId, @KeyId)
        on conflict (owner_id, content_hash) do nothing
        returning {Columns}
        """;
}
