using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using BirbalAI.Contracts.Annotation;
using BirbalAI.Contracts.Chat;
using BirbalAI.Contracts.Identity;
using BirbalAI.Contracts.Ml;
using BirbalAI.Ml.Jobs;
using BirbalAI.Ml.Rescoring;
using BirbalAI.Platform.Messaging;
using BirbalAI.Testing;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace BirbalAI.IntegrationTests.Ml;

/// <summary>
/// Batch re-scoring on the real servers: messages and a document stored → a run (Hangfire) → the summary of a hand-made case →
/// apply → newly held content raises its held event and becomes a task, held content stays held; a run interrupted after a batch
/// resumes from its checkpoint and scores every item once, in partitions that never overlap.
/// </summary>
public sealed class RescoringTests : IAsyncLifetime
{
    readonly App app = new();

    public async ValueTask InitializeAsync()
    {
        await app.InitializeAsync();
        app.WithStarterModel().With("Chat:SendLimit", "1000").With("Annotation:PublishIntervalMs", "50")
            .With("Ml:Rescoring:BatchSize", "2").With("Ml:Rescoring:MaxVerdictsPerEvent", "2").With("Ml:Rescoring:ListedChanges", "3");
    }

    public ValueTask DisposeAsync() => app.DisposeAsync();

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    async Task<T> ScalarAsync<T>(string sql, object? args = null)
    {
        await using var connection = await app.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync(Ct);
        return await connection.ExecuteScalarAsync<T>(sql, args) ?? default!;
    }

    static async Task<Guid> SendAsync(HttpClient who, Guid room, string text)
    {
        var response = await who.PostAsJsonAsync($"/api/chat/rooms/{room}/messages", new { text }, Ct);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetGuid();
    }

    async Task<(HttpClient Ann, HttpClient Bob, Guid Room)> RoomAsync()
    {
        var (ann, _, _, _) = await Accounts.PersonAsync(app, Roles.Member);
        var (bob, _, _, bobEmail) = await Accounts.PersonAsync(app, Roles.Member);
        var created = await ann.PostAsJsonAsync("/api/chat/rooms", new { name = "garden club", isPrivate = false }, Ct);
        var room = (await created.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetGuid();
        Assert.Equal(HttpStatusCode.Accepted, (await ann.PostAsJsonAsync($"/api/chat/rooms/{room}/members", new { email = bobEmail }, Ct)).StatusCode);
        return (ann, bob, room);
    }

    [Fact]
    public async Task A_run_summarises_what_would_change_and_applying_it_holds_newly_flagged_content_and_releases_nothing()
    {
        await StarterModels.HoldNeverRejectAsync(app);
        var (ann, bob, room) = await RoomAsync();
        var garden = await SendAsync(ann, room, StarterModels.Clean);            // "… the garden …": approved
        var market = await SendAsync(ann, room, "see you at the market");       // approved, and stays so
        var threat = await SendAsync(ann, room, StarterModels.Threat);          // held
        var hello = await SendAsync(ann, room, "hello everyone");               // approved
        var bus = await SendAsync(ann, room, "the bus was late again");         // approved
        using (var form = new MultipartFormDataContent())
        {
            form.Add(new ByteArrayContent(Encoding.UTF8.GetBytes("the library opens at nine\n\nhello all")) { Headers = { ContentType = new MediaTypeHeaderValue("text/plain") } },
                "file", "notes.txt");
            Assert.Equal(HttpStatusCode.Created, (await ann.PostAsync("/api/documents", form, Ct)).StatusCode);
        }
        await Eventually.TrueAsync(async () => await ScalarAsync<long>("select count(*) from documents.chunks where status = 'approved'") == 2, "the document is processed", Patience);

        // The hand-made case: a policy that approves whatever the model says except hate from 0.99, and watched words that add
        // hate ("garden"), hold ("hello") and block ("bus"). Re-scored with v1 under it:
        // chat approve→review ×2 (garden, hello), approve→reject ×1 (bus), review→approve ×1 (the held threat), approve→approve ×1;
        // documents approve→review ×1 ("hello all"), approve→approve ×1; by category only hate approve→review ×1 (garden).
        var (admin, _, _) = await Accounts.WithApiKeyAsync(app, Roles.Admin);
        var thresholds = BirbalAI.Ml.Categories.Default.ToDictionary(c => c, c => c == "hate" ? new { review = 0.99f, reject = 1f } : new { review = 1f, reject = 1f });
        (await admin.PutAsJsonAsync("/api/ml/policy", new { thresholds }, Ct)).EnsureSuccessStatusCode();
        foreach (var word in new object[] { new { pattern = "garden", action = "add-category", category = "hate" }, new { pattern = "hello", action = "require-approval" },
                     new { pattern = "bus", action = "block" } })
            Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/api/ml/watched-words", word, Ct)).StatusCode);

        // An Admin starts it on the page: v1, both sources (checked by default).
        var browser = await Accounts.SignedInAsync(app, Roles.Admin);
        var started = await browser.SubmitAsync(await browser.GetDocumentAsync("/admin/ml/rescoring"), "#start-rescoring", pageUrl: "/admin/ml/rescoring");
        Assert.Equal(HttpStatusCode.Redirect, started.StatusCode);
        var runUrl = started.Headers.Location!.ToString();
        var runs = app.Services.GetRequiredService<RescoringRuns>();
        var number = int.Parse(runUrl.Split('/').Last(), System.Globalization.CultureInfo.InvariantCulture);
        await Eventually.TrueAsync(async () => (await runs.FindAsync(number, Ct))!.Status is not (RescoringRuns.Queued or RescoringRuns.Running), "the run ends", Patience);
        var run = (await runs.FindAsync(number, Ct))!;
        Assert.True(run.Status == RescoringRuns.Succeeded, run.Error);
        Assert.Equal((7L, 7L), (run.Total, run.Scored));
        Assert.Equal(4, (await runs.PartitionsAsync(run.Id, Ct)).Single().Batches);   // 5 messages in batches of 2, then 2 chunks

        var page = await browser.GetDocumentAsync(runUrl);
        Assert.Equal("succeeded", page.QuerySelector("#status")!.TextContent);
        string Count(string selector) => page.QuerySelector(selector)?.QuerySelector(".count")?.TextContent ?? "none";
        Assert.Equal(("2", "1", "1", "1"), (Count("tr[data-direction='chat.message:approve>review']"), Count("tr[data-direction='chat.message:approve>reject']"),
            Count("tr[data-direction='chat.message:review>approve']"), Count("tr[data-direction='documents.chunk:approve>review']")));
        Assert.Equal(4, page.QuerySelectorAll("#directions tbody tr").Length);
        Assert.Equal(["hate:approve>review"], page.QuerySelectorAll("#categories tbody tr").Select(r => r.GetAttribute("data-change")));
        Assert.Equal("1", Count("tr[data-change='hate:approve>review']"));
        Assert.Equal(("5", "2", "4"), (page.QuerySelector("#changed")!.TextContent, page.QuerySelector("#unchanged")!.TextContent, page.QuerySelector("#would-hold")!.TextContent));
        Assert.Equal(3, page.QuerySelectorAll("#examples li").Length);   // of 5 changed: Ml:Rescoring:ListedChanges
        Assert.DoesNotContain("garden", page.QuerySelector("#examples")!.TextContent);   // ids, not text
        Assert.Equal(0, await ScalarAsync<long>("select count(*) from platform.outbox where wire_name = 'ml.verdicts-revised.v1'"));   // nothing until applied

        var applied = await browser.SubmitAsync(page, "#apply", pageUrl: runUrl);

        Assert.Equal(HttpStatusCode.Redirect, applied.StatusCode);
        // 5 chat verdicts in events of at most 2, and 2 chunk verdicts in one: ids, scores and versions, never text.
        var payloads = (await app.Services.GetRequiredService<NpgsqlDataSource>().OpenConnection()
            .QueryAsync<string>("select payload::text from platform.outbox where wire_name = 'ml.verdicts-revised.v1' order by id")).ToList();
        Assert.Equal(4, payloads.Count);
        Assert.DoesNotContain(payloads, p => p.Contains("garden", StringComparison.Ordinal) || p.Contains("hello all", StringComparison.Ordinal));
        Assert.Equal(1, await ScalarAsync<long>("select count(*) from identity.audit_log where kind = 'ml.rescoring-applied' and actor_id is not null"));
        Assert.Equal(HttpStatusCode.Conflict, (await admin.PostAsync($"/api/ml/rescoring-runs/{run.Id}/apply", null, Ct)).StatusCode);   // once

        async Task<string> StatusAsync(Guid id) => await ScalarAsync<string>("select status from chat.messages where id = @id", new { id });
        await Eventually.TrueAsync(async () => await StatusAsync(garden) == "held" && await StatusAsync(hello) == "held" && await StatusAsync(bus) == "held"
            && await ScalarAsync<string>("select status from documents.chunks where text = 'hello all'") == "held", "the owners hold what now scores review or reject", Patience);
        Assert.Equal(("approved", "held"), (await StatusAsync(market), await StatusAsync(threat)));   // the held threat now scores approve: still held
        Assert.Equal(("approve", "reject"), (await ScalarAsync<string>("select action from chat.messages where id = @threat", new { threat }),
            await ScalarAsync<string>("select action from chat.messages where id = @bus", new { bus })));   // refused by its new verdict, yet only held
        Assert.Equal(BirbalAI.Ml.Categories.Default.Count, await ScalarAsync<int>("select count(*) from jsonb_object_keys((select scores from chat.messages where id = @garden))", new { garden }));
        Assert.Equal(1.0, await ScalarAsync<double>("select (scores->>'hate')::float8 from chat.messages where id = @garden", new { garden }), 3);
        Assert.Equal("partially-held", await ScalarAsync<string>("select d.status from documents.documents d join documents.chunks c on c.document_id = d.id where c.text = 'hello all'"));
        var history = (await bob.GetFromJsonAsync<JsonElement>($"/api/chat/rooms/{room}/messages", Ct)).EnumerateArray().Select(m => m.GetProperty("id").GetGuid());
        Assert.Equal([market], history);

        // Held as any held message is: its event went out and the review workspace has a task for it.
        foreach (var id in new[] { garden, hello, bus })
            Assert.Equal(1, await ScalarAsync<long>("select count(*) from platform.outbox where wire_name = 'chat.message-held.v1' and payload->>'messageId' = @Id", new { Id = id.ToString() }));
        Assert.Equal(1, await ScalarAsync<long>("select count(*) from platform.outbox where wire_name = 'chat.message-held.v1' and payload->>'messageId' = @Id", new { Id = threat.ToString() }));
        Assert.Equal(1, await ScalarAsync<long>("select count(*) from platform.outbox where wire_name = 'documents.chunk-held.v1'"));
        await Eventually.TrueAsync(async () => await ScalarAsync<long>("select count(*) from annotation.tasks where source = 'chat.message' and content_id = any(@Ids)",
            new { Ids = new[] { garden, hello, bus } }) == 3, "the newly held messages are review tasks", Patience);

        // The same verdicts again (as a new message): the handlers hold nothing twice and raise no second event.
        var again = JsonSerializer.Deserialize<VerdictsRevised>(payloads[0], IntegrationEvents.Json)!;
        Guid againId;
        await using (var connection = await app.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync(Ct))
        await using (var tx = await connection.BeginTransactionAsync(Ct))
        {
            againId = await Outbox.AddAsync(connection, tx, again, Ct);
            await tx.CommitAsync(Ct);
        }
        await Eventually.TrueAsync(async () => await ScalarAsync<bool>("select exists (select 1 from platform.inbox where message_id = @againId and handler = 'chat.VerdictsRevisedHandler')",
            new { againId }), "Chat handled the repeated verdicts", Patience);
        Assert.Equal(4, await ScalarAsync<long>("select count(*) from platform.outbox where wire_name = 'chat.message-held.v1'"));
    }

    [Fact]
    public async Task A_run_interrupted_after_a_batch_resumes_from_its_checkpoint_and_scores_every_item_once_in_disjoint_partitions()
    {
        app.With("Ml:Rescoring:Partitions", "2").With("Ml:Rescoring:PauseMs", "300");
        var (ann, _, room) = await RoomAsync();
        var lines = new[] { "hello", "hi", "good morning all", "thanks a lot", "see you tomorrow", "lunch at noon?", "the weather is nice today", "I baked bread this morning",
            "great match yesterday", "the bus was late again", "happy birthday Sam", "the library opens at nine" };
        var posted = new List<Guid>();
        foreach (var line in lines) posted.Add(await SendAsync(ann, room, line));
        var chat = app.Services.GetRequiredService<IChatContentSource>();
        var parts = new[] { await chat.MessagesAfterAsync(null, 100, 0, 2, null, Ct), await chat.MessagesAfterAsync(null, 100, 1, 2, null, Ct) };
        Assert.Empty(parts[0].Select(m => m.MessageId).Intersect(parts[1].Select(m => m.MessageId)));
        Assert.Equal(posted.Order(), parts.SelectMany(p => p).Select(m => m.MessageId).Order());
        var big = parts[0].Count >= parts[1].Count ? 0 : 1;   // at least 6 of the 12: several batches of 2
        var runs = app.Services.GetRequiredService<RescoringRuns>();
        var run = (await runs.CreateAsync("v1", [ContentSources.ChatMessage], "api", null, Ct)).Run!;   // not handed to Hangfire: this test runs the job
        Assert.Equal(2, run.Partitions);
        Assert.Contains("at most 1 at once (Ml:Rescoring:MaxActiveRuns)", (await runs.CreateAsync("v1", [ContentSources.ChatMessage], "api", null, Ct)).Error);
        var job = app.Services.GetRequiredService<RescoreContentJob>();

        // The worker stops after its first batch (its cancellation token, as a host that is shutting down).
        using (var stop = new CancellationTokenSource())
        {
            var running = job.RunAsync(run.Id, big, stop.Token);
            await Eventually.TrueAsync(async () => (await runs.PartitionsAsync(run.Id, Ct))[big].Batches >= 1, "the first batch is stored", Patience);
            await stop.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running);
        }
        var interrupted = (await runs.PartitionsAsync(run.Id, Ct))[big];
        var storedThen = await ScalarAsync<long>("select count(*) from ml.rescoring_items where run_id = @Id", new { run.Id });
        Assert.Equal(RescoringRuns.Queued, interrupted.Status);
        Assert.Equal(interrupted.Batches * 2L, interrupted.Scored);
        Assert.Equal(interrupted.Scored, storedThen);
        Assert.True(storedThen < parts[big].Count, $"{storedThen} of {parts[big].Count} scored before the stop");
        Assert.Equal(parts[big][(int)storedThen - 1].MessageId, interrupted.Cursor);

        // Resumed: from the checkpoint, so a second score of any item would break the results' primary key and fail the run.
        await job.RunAsync(run.Id, big, Ct);
        var watch = Stopwatch.StartNew();
        await job.RunAsync(run.Id, 1 - big, Ct);
        var other = (await runs.PartitionsAsync(run.Id, Ct))[1 - big];

        run = (await runs.FindAsync(run.Id, Ct))!;
        Assert.True(run.Status == RescoringRuns.Succeeded, run.Error);
        var resumed = (await runs.PartitionsAsync(run.Id, Ct))[big];
        Assert.Equal((RescoringRuns.Succeeded, 2, (long)parts[big].Count), (resumed.Status, resumed.Attempts, resumed.Scored));
        Assert.Equal((parts[1 - big].Count + 1) / 2, other.Batches);   // Ml:Rescoring:BatchSize
        Assert.True(watch.ElapsedMilliseconds >= other.Batches * 300, $"{other.Batches} batches in {watch.ElapsedMilliseconds} ms");   // Ml:Rescoring:PauseMs after each
        Assert.Equal(12L, run.Scored);
        await using var connection = await app.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync(Ct);
        var items = (await connection.QueryAsync<(Guid ContentId, int Partition)>("select content_id, partition from ml.rescoring_items where run_id = @Id", new { run.Id })).ToList();
        Assert.Equal(posted.Order(), items.Select(i => i.ContentId).Order());
        Assert.All(items, i => Assert.Contains(parts[i.Partition], m => m.MessageId == i.ContentId));
        Assert.All(await connection.QueryAsync<string>("select new_action from ml.rescoring_items where run_id = @Id", new { run.Id }), a => Assert.Equal("approve", a));

        // A partition whose worker died (running, no batch for longer than the timeout) is queued again from its checkpoint by the watchdog.
        var next = (await runs.CreateAsync("v1", [ContentSources.ChatMessage], "cli", null, Ct)).Run!;
        await connection.ExecuteAsync("""
            update ml.rescoring_partitions set status = 'running', attempts = 1, worker = 'gone:1', heartbeat_at = now() - interval '1 hour' where run_id = @Id and partition = 0
            """, new { next.Id });
        Assert.Equal([(next.Id, 0, RescoringRuns.Queued)], await runs.RecoverAsync(Ct));
        await Eventually.TrueAsync(async () => (await runs.PartitionsAsync(next.Id, Ct))[0].Status == RescoringRuns.Succeeded, "Hangfire runs the recovered partition", Patience);
        // One that has had its Ml:Rescoring:MaxAttempts (3) runs fails, and the run with it; a recent batch is a live worker (Ml:Rescoring:HeartbeatTimeoutSeconds).
        await connection.ExecuteAsync("""
            update ml.rescoring_partitions set status = 'running', attempts = 3, worker = 'gone:2', heartbeat_at = now() - interval '1 hour' where run_id = @Id and partition = 1;
            update ml.rescoring_partitions set status = 'running', worker = 'alive:1', heartbeat_at = now() - interval '1 minute' where run_id = @Run and partition = 0;
            """, new { next.Id, Run = run.Id });
        Assert.Equal([(next.Id, 1, RescoringRuns.Failed)], await runs.RecoverAsync(Ct));
        Assert.Equal(RescoringRuns.Failed, (await runs.FindAsync(next.Id, Ct))!.Status);
        Assert.Contains("no batch for 300 s, after 3 run(s)", (await runs.PartitionsAsync(next.Id, Ct))[1].Error);
    }
}
