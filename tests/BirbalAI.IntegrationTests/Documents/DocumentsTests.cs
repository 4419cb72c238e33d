using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using BirbalAI.Contracts.Annotation;
using BirbalAI.Contracts.Documents;
using BirbalAI.Contracts.Identity;
using BirbalAI.Documents.Uploads;
using BirbalAI.Platform.Configuration;
using BirbalAI.Platform.Documents;
using BirbalAI.Platform.Messaging;
using BirbalAI.Testing;
using Dapper;
using Hangfire.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;
using RabbitMQ.Client;

namespace BirbalAI.IntegrationTests.Documents;

/// <summary>
/// Documents on the real servers: an upload is stored sealed with its outbox row, the worker chunks and moderates it through
/// RabbitMQ (held chunks raise their event), the status follows; refusals leave nothing behind; the same file is one document;
/// held chunks stay out of other people's views and searches; redelivery changes nothing; a review decision releases a chunk.
/// </summary>
public sealed class DocumentsTests(DocumentsTests.Fixture fixture) : IClassFixture<DocumentsTests.Fixture>
{
    /// <summary>One app and database for the class: each test works with its own people and documents.</summary>
    public sealed class Fixture : IAsyncLifetime
    {
        public App App { get; } = new();

        public async ValueTask InitializeAsync()
        {
            await App.InitializeAsync();
            App.WithStarterModel().With("Documents:MaxUploadBytes", "300000").With("Documents:MaxDocumentsPerUser", "3").With("Documents:StatusPollSeconds", "7")
                .With("Annotation:UndoSeconds", "0").With("Annotation:PublishIntervalMs", "50");
            await StarterModels.HoldNeverRejectAsync(App);
        }

        public ValueTask DisposeAsync() => App.DisposeAsync();
    }

    readonly App app = fixture.App;

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    public sealed record Person(HttpClient Client, Guid Id, string Email);

    async Task<Person> PersonAsync(string role = Roles.Member)
    {
        var (client, _, id, email) = await Accounts.PersonAsync(app, role);
        return new Person(client, id, email);
    }

    static readonly string Mixed = $"{StarterModels.Clean}\n\n{StarterModels.Threat}\n\nthe garden looks lovely this week";

    static async Task<HttpResponseMessage> UploadAsync(Person who, byte[] bytes, string fileName = "notes.txt", string? visibility = null, string? title = null)
    {
        using var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(bytes);
        file.Headers.ContentType = new MediaTypeHeaderValue("application/pdf");   // a lie the server never believes
        form.Add(file, "file", fileName);
        if (visibility is not null) form.Add(new StringContent(visibility), "visibility");
        if (title is not null) form.Add(new StringContent(title), "title");
        return await who.Client.PostAsync("/api/documents", form, Ct);
    }

    static async Task<Guid> UploadedAsync(Person who, string text, string? visibility = null)
    {
        var response = await UploadAsync(who, Encoding.UTF8.GetBytes(text), visibility: visibility);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal("processing", body.GetProperty("document").GetProperty("status").GetString());
        return body.GetProperty("document").GetProperty("id").GetGuid();
    }

    static async Task<JsonElement> DocumentAsync(Person who, Guid id) => await who.Client.GetFromJsonAsync<JsonElement>($"/api/documents/{id}", Ct);

    static async Task<string> SettledAsync(Person who, Guid id)
    {
        string status = "processing";
        await Eventually.TrueAsync(async () => (status = (await DocumentAsync(who, id)).GetProperty("document").GetProperty("status").GetString()!) != "processing",
            "the document is processed", TimeSpan.FromSeconds(30));
        return status;
    }

    async Task<T> ScalarAsync<T>(string sql, object? args = null)
    {
        await using var connection = await app.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync(Ct);
        return await connection.ExecuteScalarAsync<T>(sql, args) ?? default!;
    }

    [Fact]
    public async Task An_upload_with_one_toxic_paragraph_is_partially_held_and_a_review_release_approves_it()
    {
        var owner = await PersonAsync();
        var response = await UploadAsync(owner, Encoding.UTF8.GetBytes(Mixed), title: "garden club notes");
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var id = (await response.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("document").GetProperty("id").GetGuid();

        Assert.Equal("partially-held", await SettledAsync(owner, id));
        var chunks = (await DocumentAsync(owner, id)).GetProperty("chunks").EnumerateArray().ToList();
        Assert.Equal(["approved", "held", "approved"], chunks.Select(c => c.GetProperty("status").GetString()));
        Assert.Equal(StarterModels.Threat, chunks[1].GetProperty("text").GetString());
        Assert.Contains("harassment", chunks[1].GetProperty("flagged").EnumerateArray().Select(f => f.GetString()));
        Assert.Equal(Mixed.IndexOf(StarterModels.Threat, StringComparison.Ordinal), chunks[1].GetProperty("start").GetInt32());
        var held = chunks[1].GetProperty("id").GetGuid();
        var events = await ScalarAsync<string>("select string_agg(payload::text, ' ') from platform.outbox where wire_name = 'documents.chunk-held.v1'");
        Assert.Contains(held.ToString(), events);
        Assert.DoesNotContain("kill", events);   // ids, never text
        // At rest the body is sealed: neither the original nor the extracted text is readable in the store.
        var stored = await ScalarAsync<string>("select body::text from platform.documents where id = @id", new { id });
        Assert.DoesNotContain("garden", stored);

        // The review workspace: the held chunk is a task with its text (from Contracts.Documents) and its place in the document.
        var reviewer = await PersonAsync(Roles.Annotator);
        JsonElement task = default;
        var others = new List<Guid>();   // other tests' held chunks share the queue: passed over
        await Eventually.TrueAsync(async () =>
        {
            var exclude = string.Concat(others.Select((o, i) => $"{(i == 0 ? "?" : "&")}exclude={o}"));
            var next = await reviewer.Client.GetFromJsonAsync<JsonElement>($"/api/annotation/projects/{BirbalAI.Annotation.Projects.ProjectAccess.ModerationId}/next{exclude}", Ct);
            if (next.GetProperty("task") is not { ValueKind: JsonValueKind.Object } t) return false;
            if (t.GetProperty("contentId").GetGuid() != held)
            {
                others.Add(t.GetProperty("id").GetGuid());
                return false;
            }
            task = t;
            return true;
        }, "the held chunk is a task in the moderation queue");
        Assert.Equal(("documents.chunk", StarterModels.Threat), (task.GetProperty("source").GetString(), task.GetProperty("text").GetString()));
        Assert.Equal("document “garden club notes”", task.GetProperty("context").GetProperty("roomName").GetString());
        Assert.Equal([StarterModels.Clean], task.GetProperty("context").GetProperty("before").EnumerateArray().Select(m => m.GetProperty("text").GetString()));

        var submitted = await reviewer.Client.PostAsJsonAsync($"/api/annotation/tasks/{task.GetProperty("id").GetGuid()}/annotations", new { categories = Array.Empty<string>() }, Ct);
        Assert.Equal(HttpStatusCode.OK, submitted.StatusCode);

        await Eventually.TrueAsync(async () => (await DocumentAsync(owner, id)).GetProperty("document").GetProperty("status").GetString() == "approved", "the document is approved");
        Assert.Equal(1, await ScalarAsync<long>("select count(*) from identity.audit_log where kind = 'documents.chunk-released' and actor_id = @Id", new { reviewer.Id }));

        // The same decision delivered again, and a contrary one on a chunk no longer waiting: nothing changes.
        var decision = await ScalarAsync<Guid>("select id from platform.outbox where wire_name = 'annotation.content-decided.v1' and payload->>'contentId' = @Id", new { Id = held.ToString() });
        await PublishDecisionAsync(app, decision, held, ContentDecided.Release, reviewer.Id);
        var contrary = Guid.NewGuid();
        await PublishDecisionAsync(app, contrary, held, ContentDecided.Remove, reviewer.Id);
        await Eventually.TrueAsync(async () => await ScalarAsync<bool>("select exists (select 1 from platform.inbox where message_id = @contrary and handler = 'documents.ContentDecidedHandler')", new { contrary }),
            "Documents handled the late decision");
        Assert.Equal("approved", await ScalarAsync<string>("select status from documents.chunks where id = @held", new { held }));
        Assert.Equal(1, await ScalarAsync<long>("select count(*) from identity.audit_log where kind like 'documents.chunk-%' and subject = @Subject", new { Subject = $"chunk {held}" }));
    }

    /// <summary>Annotation's decision on a chunk, published straight to the broker as the review workspace's relay would.</summary>
    internal static async Task PublishDecisionAsync(App app, Guid messageId, Guid chunk, string decision, Guid by)
    {
        var rabbit = app.Services.GetRequiredService<RabbitConnection>();
        await using var channel = await rabbit.CreateConfirmingChannelAsync(Ct);
        var evt = new ContentDecided(ContentSources.DocumentChunk, chunk, decision, [], by, "Test reviewer", DateTimeOffset.UtcNow);
        await channel.BasicPublishAsync(rabbit.Options.Exchange, "annotation.content-decided.v1", mandatory: false,
            new BasicProperties { MessageId = messageId.ToString(), Type = "annotation.content-decided.v1", ContentType = "application/json" },
            Encoding.UTF8.GetBytes(JsonSerializer.Serialize(evt, new JsonSerializerOptions(JsonSerializerDefaults.Web))), Ct);
    }

    [Fact]
    public async Task A_held_chunk_never_reaches_another_persons_view_or_search()
    {
        Person owner = await PersonAsync(), other = await PersonAsync(), admin = await PersonAsync(Roles.Admin);
        var id = await UploadedAsync(owner, $"{StarterModels.Clean}\n\n{StarterModels.Threat}", visibility: "all");
        Assert.Equal("partially-held", await SettledAsync(owner, id));

        var seen = (await DocumentAsync(other, id)).GetProperty("chunks").EnumerateArray().ToList();
        Assert.Equal(["approved", "withheld"], seen.Select(c => c.GetProperty("status").GetString()));
        Assert.Equal(JsonValueKind.Null, seen[1].GetProperty("text").ValueKind);

        // This document's hits only: the class's other tests leave documents (approved chunks, shared ones) that match too.
        async Task<List<JsonElement>> SearchAsync(Person who, string q) =>
            [.. (await who.Client.GetFromJsonAsync<JsonElement>($"/api/documents/search?q={Uri.EscapeDataString(q)}", Ct)).EnumerateArray()
                .Where(hit => hit.GetProperty("documentId").GetGuid() == id)];
        Assert.Empty(await SearchAsync(other, "kill"));    // security: a held chunk is found by its owner only
        Assert.Empty(await SearchAsync(admin, "kill"));
        var mine = Assert.Single(await SearchAsync(owner, "kill"));
        Assert.Contains("<mark>kill</mark>", mine.GetProperty("snippet").GetString());
        var garden = Assert.Single(await SearchAsync(other, "gardens"));   // english stemming: "gardens" finds "garden"
        Assert.Contains("<mark>garden</mark>", garden.GetProperty("snippet").GetString());

        var stranger = await PersonAsync();
        var hidden = await UploadedAsync(owner, "the library opens at nine");
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.Client.GetAsync($"/api/documents/{hidden}", Ct)).StatusCode);   // private
        Assert.DoesNotContain(hidden, (await stranger.Client.GetFromJsonAsync<JsonElement>("/api/documents", Ct)).EnumerateArray().Select(d => d.GetProperty("id").GetGuid()));
    }

    [Fact]
    public async Task The_same_file_twice_is_one_document_and_a_redelivered_upload_is_processed_once()
    {
        var owner = await PersonAsync();
        var id = await UploadedAsync(owner, Mixed + "\n\nonce more");
        var again = await UploadAsync(owner, Encoding.UTF8.GetBytes(Mixed + "\n\nonce more"), fileName: "renamed.md");
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        var body = await again.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.True(body.GetProperty("duplicate").GetBoolean());
        Assert.Equal(id, body.GetProperty("document").GetProperty("id").GetGuid());
        await SettledAsync(owner, id);

        // The broker delivers the upload again, under its own id, and then as a new message: nothing is done twice. One
        // consumer takes them in order, so once the second is in the inbox the first was handled (or skipped) before it.
        var messageId = await ScalarAsync<Guid>("select id from platform.outbox where wire_name = 'documents.document-uploaded.v1' and payload->>'documentId' = @Id", new { Id = id.ToString() });
        var rabbit = app.Services.GetRequiredService<RabbitConnection>();
        await using var channel = await rabbit.CreateConfirmingChannelAsync(Ct);
        var payload = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new DocumentUploaded(id, owner.Id, DateTimeOffset.UtcNow), new JsonSerializerOptions(JsonSerializerDefaults.Web)));
        var fresh = Guid.NewGuid();
        foreach (var mid in new[] { messageId, fresh })
            await channel.BasicPublishAsync(rabbit.Options.Exchange, "documents.document-uploaded.v1", mandatory: false,
                new BasicProperties { MessageId = mid.ToString(), Type = "documents.document-uploaded.v1", ContentType = "application/json" }, payload, Ct);
        await Eventually.TrueAsync(async () => await ScalarAsync<bool>("select exists (select 1 from platform.inbox where message_id = @fresh)", new { fresh }),
            "the redeliveries were handled");

        Assert.Equal(4, await ScalarAsync<long>("select count(*) from documents.chunks where document_id = @id", new { id }));
        Assert.Equal(1, await ScalarAsync<long>("select count(*) from platform.outbox where wire_name = 'documents.chunk-held.v1' and payload->>'documentId' = @Id", new { Id = id.ToString() }));
    }

    /// <summary>What an upload leaves of <paramref name="owner"/>: document rows, Documents' outbox rows, and bodies without a row.</summary>
    Task<long> LeftBehindAsync(Person owner) => ScalarAsync<long>("""
        select (select count(*) from documents.documents where owner_id = @Id)
             + (select count(*) from platform.outbox where wire_name like 'documents.%' and payload->>'ownerId' = @Id::text)
             + (select count(*) from platform.documents b where not exists (select 1 from documents.documents d where d.id = b.id))
        """, new { owner.Id });

    static async Task RefusedAsync(HttpResponseMessage response, HttpStatusCode status, string names)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(names, (await response.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Refused_files_get_problem_details_naming_the_limit_and_leave_nothing_behind()
    {
        var owner = await PersonAsync();
        Task<long> RowsAsync() => LeftBehindAsync(owner);
        var before = await RowsAsync();

        await RefusedAsync(await UploadAsync(owner, new byte[400_000]), HttpStatusCode.RequestEntityTooLarge, "Documents:MaxUploadBytes");
        await RefusedAsync(await UploadAsync(owner, [0x7F, 0x45, 0x4C, 0x46, 0, 1, 2, 3], "notes.txt"), HttpStatusCode.UnsupportedMediaType, "Documents:AllowedTypes");
        await RefusedAsync(await UploadAsync(owner, "%PDF-1.7\nbroken"u8.ToArray(), "report.pdf"), HttpStatusCode.UnprocessableEntity, "cannot be read");
        await RefusedAsync(await UploadAsync(owner, "hello there"u8.ToArray(), title: StarterModels.Threat), HttpStatusCode.UnprocessableEntity, "title");
        await RefusedAsync(await owner.Client.PostAsJsonAsync("/api/documents", new { file = "x" }, Ct), HttpStatusCode.BadRequest, "multipart/form-data");
        Assert.Equal(before, await RowsAsync());

        foreach (var i in Enumerable.Range(0, 3)) await UploadedAsync(owner, $"page {i} of the garden club notes");
        await RefusedAsync(await UploadAsync(owner, "one too many"u8.ToArray()), HttpStatusCode.Conflict, "Documents:MaxDocumentsPerUser");
    }

    [Fact]
    public async Task An_encrypted_pdf_is_refused_with_problem_details_and_leaves_nothing_behind()
    {
        var owner = await PersonAsync();
        Assert.Equal(0, await LeftBehindAsync(owner));

        // Both kinds: one a reader opens without a password (printing and copying "forbidden"), one it cannot open at all.
        await RefusedAsync(await UploadAsync(owner, DocumentFilesTests.EncryptedPdf(emptyUserPassword: true), "protected.pdf"),
            HttpStatusCode.UnprocessableEntity, "The PDF is encrypted");
        await RefusedAsync(await UploadAsync(owner, DocumentFilesTests.EncryptedPdf(emptyUserPassword: false), "locked.pdf"),
            HttpStatusCode.UnprocessableEntity, "The PDF is encrypted");

        Assert.Equal(0, await LeftBehindAsync(owner));
        // The same file unencrypted is taken, and written where the count above looks: its row, its body, its outbox row.
        var taken = await UploadAsync(owner, DocumentFilesTests.Pdf("An unencrypted report"), "report.pdf");
        Assert.Equal(HttpStatusCode.Created, taken.StatusCode);
        var id = (await taken.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("document").GetProperty("id").GetGuid();
        Assert.True(await ScalarAsync<bool>("""
            select exists (select 1 from documents.documents where id = @id and owner_id = @Owner)
               and exists (select 1 from platform.documents where id = @id)
               and exists (select 1 from platform.outbox where wire_name = 'documents.document-uploaded.v1' and payload->>'ownerId' = @Owner::text)
            """, new { id, Owner = owner.Id }));
    }

    [Fact]
    public async Task A_poison_upload_message_is_parked_and_once_requeued_from_the_dead_letters_page_is_processed()
    {
        var owner = await PersonAsync();
        var admin = await Accounts.SignedInAsync(app, Roles.Admin);
        var db = app.Services.GetRequiredService<NpgsqlDataSource>();
        var store = app.Services.GetRequiredService<IDocumentStore>();
        var encryption = app.Services.GetRequiredService<ContentEncryption>();

        // A document committed with its outbox row but without its body (as when a MongoDB write was lost): every try of the
        // worker fails, and after RabbitMq:MaxDeliveries tries the message is parked.
        var id = Guid.CreateVersion7();
        Guid messageId;
        await using (var connection = await db.OpenConnectionAsync(Ct))
        await using (var tx = await connection.BeginTransactionAsync(Ct))
        {
            await connection.ExecuteAsync("""
                insert into documents.documents (id, owner_id, owner_name, title, file_name, type, size, content_hash, status, visibility, key_id)
                values (@id, @Owner, 'owner', 'lost body', 'lost.txt', 'text', 20, @Hash, 'processing', 'private', @Key)
                """, new { id, Owner = owner.Id, Hash = id.ToString("N"), Key = encryption.CurrentKeyId }, tx);
            messageId = await Outbox.AddAsync(connection, tx, new DocumentUploaded(id, owner.Id, DateTimeOffset.UtcNow), Ct);
            await tx.CommitAsync(Ct);
        }
        var row = $"tr[data-message='{messageId}']";
        var page = await Eventually.ValueAsync(async () =>
        {
            var letters = await admin.GetDocumentAsync("/admin/platform/dead-letters");
            return letters.QuerySelector(row) is null ? null : letters;
        }, "the upload message is parked in the dead-letter queue", TimeSpan.FromSeconds(30));
        var reason = page.QuerySelector(row)!.TextContent;
        Assert.Contains($"documents.DocumentUploadedHandler failed on attempt {app.Services.GetRequiredService<IOptions<RabbitMqOptions>>().Value.MaxDeliveries}", reason);
        Assert.Contains("has no body", reason);
        Assert.Equal("processing", await ScalarAsync<string>("select status from documents.documents where id = @id", new { id }));
        Assert.Equal(0, await ScalarAsync<long>("select count(*) from documents.chunks where document_id = @id", new { id }));

        // The cause fixed (the body is back), an Admin requeues it: the worker processes it, once.
        await store.PutAsync(UploadDocument.Bodies, id, new DocumentBody(encryption.Seal("found again"u8.ToArray()), encryption.SealText("found again"), encryption.CurrentKeyId), null, null, Ct);
        var requeued = await admin.SubmitAsync(page, $"{row} form", pageUrl: "/admin/platform/dead-letters");
        Assert.Equal(HttpStatusCode.OK, requeued.StatusCode);
        Assert.Contains($"{messageId} is back in its queue", (await HtmlForms.ParseAsync(requeued)).QuerySelector("[role=status]")!.TextContent);

        Assert.Equal("approved", await SettledAsync(owner, id));
        Assert.Equal(["found again"], (await DocumentAsync(owner, id)).GetProperty("chunks").EnumerateArray().Select(c => c.GetProperty("text").GetString()));
        Assert.Equal(1, await ScalarAsync<long>("select count(*) from platform.inbox where message_id = @messageId", new { messageId }));
        Assert.Null((await admin.GetDocumentAsync("/admin/platform/dead-letters")).QuerySelector(row));
    }

    [Fact]
    public void Without_a_MongoDB_connection_string_bodies_stay_in_PostgreSQL_and_no_orphan_sweeper_is_scheduled()
    {
        var recurring = app.Services.GetRequiredService<Hangfire.JobStorage>().GetConnection().GetRecurringJobs();

        Assert.IsType<PostgresDocumentStore>(app.Services.GetRequiredService<IDocumentStore>());
        Assert.DoesNotContain(recurring, j => j.Id == BirbalAI.Platform.Jobs.SweepOrphanBodiesJob.Id);
        Assert.Contains(recurring, j => j.Id == BirbalAI.Platform.Jobs.PurgeMessagingJob.Id);   // the schedule was written at all
    }

    [Fact]
    public async Task Rotating_the_key_reseals_every_body_and_the_rotated_app_still_reads_them()
    {
        var owner = await PersonAsync();
        var id = await UploadedAsync(owner, "the soup recipe is in the group chat");
        await SettledAsync(owner, id);
        var store = app.Services.GetRequiredService<IDocumentStore>();
        var current = app.Services.GetRequiredService<IOptions<SecretsOptions>>().Value.EncryptionKey;
        var next = "the-next-key-" + Guid.NewGuid().ToString("N");
        var rotated = new ContentEncryption(Options.Create(new SecretsOptions { EncryptionKey = next, PreviousEncryptionKeys = [current] }));

        var (count, total) = await BirbalAI.Documents.Cli.RotateKey.RunAsync(store, rotated, app.Services.GetRequiredService<NpgsqlDataSource>(), Ct);
        var again = await BirbalAI.Documents.Cli.RotateKey.RunAsync(store, rotated, app.Services.GetRequiredService<NpgsqlDataSource>(), Ct);

        Assert.True(count >= 1 && count == total);
        Assert.Equal(0, again.Rotated);
        Assert.Equal(rotated.CurrentKeyId, await ScalarAsync<string>("select key_id from documents.documents where id = @id", new { id }));
        var body = await store.GetAsync<BirbalAI.Documents.Uploads.DocumentBody>(BirbalAI.Documents.Uploads.UploadDocument.Bodies, id, Ct);
        Assert.Equal("the soup recipe is in the group chat", rotated.OpenText(body!.Text));
        Assert.Equal("the soup recipe is in the group chat", Encoding.UTF8.GetString(rotated.Open(body.Original)));

        // And back, so the app (which knows only its own key) reads every body again.
        var back = new ContentEncryption(Options.Create(new SecretsOptions { EncryptionKey = current, PreviousEncryptionKeys = [next] }));
        Assert.Equal(total, (await BirbalAI.Documents.Cli.RotateKey.RunAsync(store, back, app.Services.GetRequiredService<NpgsqlDataSource>(), Ct)).Rotated);
    }

    [Fact]
    public async Task The_pages_mark_the_held_chunk_for_its_owner_and_withhold_it_from_others()
    {
        Person owner = await PersonAsync(), other = await PersonAsync();
        var id = await UploadedAsync(owner, $"{StarterModels.Clean}\n\n{StarterModels.Threat}", visibility: "all");
        Assert.Equal("partially-held", await SettledAsync(owner, id));
        var ownerPages = await Accounts.SignInAsync(app, owner.Email);
        var otherPages = await Accounts.SignInAsync(app, other.Email);

        var mine = await ownerPages.GetDocumentAsync($"/documents/{id}");
        Assert.Equal("partially-held", mine.QuerySelector("#status")?.TextContent.Trim());
        var held = mine.QuerySelector("section.chunk.held");
        Assert.NotNull(held);
        Assert.Contains(StarterModels.Threat, held.TextContent);
        Assert.Contains("harassment", held.QuerySelector(".verdict")?.TextContent);
        // Followed live (the hub's client library), polling at Documents:StatusPollSeconds only if it cannot connect.
        Assert.Equal("7", mine.QuerySelector("#document")?.GetAttribute("data-poll"));
        Assert.NotNull(mine.QuerySelector("script[src='/lib/signalr/signalr.min.js']"));

        var theirs = await otherPages.GetDocumentAsync($"/documents/{id}");
        Assert.DoesNotContain("kill", theirs.QuerySelector("#chunks")!.TextContent);
        Assert.NotNull(theirs.QuerySelector("section.chunk.withheld .withheld"));

        var library = await otherPages.GetDocumentAsync("/documents?status=partially-held");
        Assert.Contains(library.QuerySelectorAll("#documents tr[data-document]"), r => r.GetAttribute("data-document") == id.ToString());
        Assert.Equal("7", library.QuerySelector("#documents")?.GetAttribute("data-poll"));
        Assert.NotNull(library.QuerySelector("script[src='/lib/signalr/signalr.min.js']"));
        var found = await otherPages.GetDocumentAsync("/documents?q=market");
        Assert.Contains(found.QuerySelectorAll("#hits li"), li => li.GetAttribute("data-document") == id.ToString() && li.InnerHtml.Contains("<mark>market</mark>"));
        Assert.Empty((await otherPages.GetDocumentAsync("/documents?q=kill")).QuerySelectorAll("#hits li"));
        Assert.NotNull((await ownerPages.GetDocumentAsync("/documents/upload")).QuerySelector("form#upload input[type=file][name=file]"));
    }
}
