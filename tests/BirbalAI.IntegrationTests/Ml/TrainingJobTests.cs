using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using BirbalAI.Contracts.Annotation;
using BirbalAI.Contracts.Identity;
using BirbalAI.Ml.Training;
using BirbalAI.Platform.Messaging;
using BirbalAI.Testing;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace BirbalAI.IntegrationTests.Ml;

/// <summary>Training jobs on the real servers (Hangfire on PostgreSQL): labels → snapshot → job → registered version; cancel; a lost worker's job runs again.</summary>
public sealed class TrainingJobTests : IClassFixture<App>
{
    readonly App app;

    public TrainingJobTests(App app)
    {
        this.app = app;
        app.WithStarterModel().With("Ml:ActiveLearning:Budget", "3").With("Chat:SendLimit", "1000").With("Ml:Training:HeartbeatSeconds", "1").With("Ml:Training:HeartbeatTimeoutSeconds", "2").With("Ml:Training:MaxAttempts", "2");
    }

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    // The machine running the suite may be busy: asynchronous steps get a minute.
    static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    internal static readonly string[] Threats = ["I will find you and hurt you", "you are dead when I see you", "I will kill you tonight", "watch your back, I will hurt you",
        "I know where you live and I will make you bleed", "Ich werde dich finden und dir weh tun", "du bist tot wenn ich dich sehe", "ich bringe dich heute nacht um"];
    internal static readonly string[] Everyday = ["see you at the market on Saturday", "thanks for the help with the garden", "the bus was late again", "who brings snacks on Friday",
        "happy birthday, have a lovely day", "wir sehen uns am Samstag auf dem Markt", "danke für die Hilfe im Garten", "der Bus war wieder spät"];

    /// <summary>A JSONL file of <paramref name="copies"/> variants of each line, German ones marked "de".</summary>
    internal static string Data(string tag, int copies) => string.Concat(Enumerable.Range(0, copies).SelectMany(i =>
        Threats.Select((t, k) => (Text: t, Labels: "[\"violence\", \"harassment/threatening\"]", De: k >= 5))
            .Concat(Everyday.Select((t, k) => (Text: t, Labels: "[]", De: k >= 5)))
            .Select(x => $"{{\"text\": \"{x.Text} {tag} {i}\", \"labels\": {x.Labels}, \"language\": \"{(x.De ? "de" : "en")}\"}}\n")));

    async Task<(HttpClient Admin, string Snapshot)> SnapshotAsync(int copies)
    {
        var (admin, _, _) = await Accounts.WithApiKeyAsync(app, Roles.Admin);
        var tag = Guid.NewGuid().ToString("N")[..6];
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync($"/api/ml/datasets/import?format=jsonl&name=t{tag}", new StringContent(Data(tag, copies)), Ct)).StatusCode);
        var snapshot = await (await admin.PostAsync("/api/ml/datasets/snapshots", null, Ct)).Content.ReadFromJsonAsync<JsonElement>(Ct);
        return (admin, snapshot.GetProperty("name").GetString()!);
    }

    static async Task<JsonElement> JobAsync(HttpClient admin, Guid id) => await admin.GetFromJsonAsync<JsonElement>($"/api/ml/training-jobs/{id}", Ct);

    static async Task<JsonElement> FinishedAsync(HttpClient admin, Guid id, TimeSpan? timeout = null)
    {
        JsonElement job = default;
        await Eventually.TrueAsync(async () => (job = await JobAsync(admin, id)).GetProperty("status").GetString() is not ("queued" or "running"),
            "the job ends", timeout ?? TimeSpan.FromSeconds(60));
        return job;
    }

    [Fact]
    public async Task A_finished_training_proposes_what_the_new_version_is_least_sure_about_as_active_learning_tasks_once_each()
    {
        var (ann, _, _, _) = await Accounts.PersonAsync(app, Roles.Member);
        var room = (await (await ann.PostAsJsonAsync("/api/chat/rooms", new { name = "active learning", isPrivate = false }, Ct)).Content.ReadFromJsonAsync<JsonElement>(Ct))
            .GetProperty("id").GetGuid();
        var texts = new[] { "see you at the market", "the bus was late again", "watch your back tonight", "thanks for the garden tips", "you will regret this", "hello all" };
        var ids = new List<Guid>();
        foreach (var text in texts)
        {
            var sent = await ann.PostAsJsonAsync($"/api/chat/rooms/{room}/messages", new { text }, Ct);
            Assert.Equal(HttpStatusCode.Created, sent.StatusCode);
            ids.Add((await sent.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetGuid());
        }
        var (admin, snapshot) = await SnapshotAsync(2);
        // One of them is a labelled example already: never proposed. (Stored as an import, so that it is not a reviewer's new label
        // for the schedule test of this class, which counts those.)
        await using (var connection = await app.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync(Ct))
            await connection.ExecuteAsync("""
                insert into ml.examples (id, source, content_id, text, language, categories, origin, labelled_at) values (@Id, 'chat.message', @ContentId, 'hello all', 'en', '{}', 'import', now())
                """, new { Id = Guid.NewGuid(), ContentId = ids[^1].ToString() });

        var started = await admin.PostAsJsonAsync("/api/ml/training-jobs", new { snapshot, epochs = 3, buckets = 20_000 }, Ct);
        var job = await FinishedAsync(admin, (await started.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetGuid());
        Assert.True(job.GetProperty("status").GetString() == "succeeded", job.GetProperty("log").GetString());
        var version = job.GetProperty("versionId").GetGuid().ToString();

        // The proposal of this version: the budget (Ml:ActiveLearning:Budget = 3 here) of this room's unlabelled messages, each with its reason.
        await using var db = await app.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync(Ct);
        string? payload = null;
        await Eventually.TrueAsync(async () => (payload = await db.ExecuteScalarAsync<string?>(
            "select payload::text from platform.outbox where wire_name = 'ml.tasks-proposed.v1' and payload->>'modelVersionId' = @version", new { version })) is not null,
            "the new version proposes tasks", Patience);
        var proposed = JsonDocument.Parse(payload!).RootElement.GetProperty("tasks").EnumerateArray().ToList();
        Assert.Equal(3, proposed.Count);
        var chosen = proposed.Select(t => t.GetProperty("contentId").GetGuid()).ToList();
        Assert.All(chosen, id => Assert.Contains(id, ids[..^1]));
        Assert.DoesNotContain(ids[^1], chosen);
        Assert.All(proposed, t => Assert.Contains(t.GetProperty("category").GetString(), BirbalAI.Ml.Categories.Default));

        // Annotation makes them tasks of its "Active learning" labelling project, once each, even when the same proposal comes again.
        // (The project is made with the first proposal Annotation handles: read it once that has happened.)
        const string InProject = "from annotation.tasks t join annotation.projects p on p.id = t.project_id where p.name = 'Active learning' and p.kind = 'labelling'";
        await Eventually.TrueAsync(async () => await db.ExecuteScalarAsync<long>($"select count(*) {InProject} and t.content_id = any(@chosen)", new { chosen }) == 3,
            "the proposals are tasks", Patience);
        var again = JsonSerializer.Deserialize<BirbalAI.Contracts.Ml.TasksProposed>(payload!, IntegrationEvents.Json)!;
        Guid againId;
        await using (var tx = await db.BeginTransactionAsync(Ct))
        {
            againId = await Outbox.AddAsync(db, tx, again, Ct);
            await tx.CommitAsync(Ct);
        }
        await Eventually.TrueAsync(async () => await db.ExecuteScalarAsync<bool>("select exists (select 1 from platform.inbox where message_id = @againId)", new { againId }),
            "the repeated proposal is handled", Patience);
        // (Other tests' versions may propose this room's other messages meanwhile: count this proposal's items.)
        Assert.Equal(3, await db.ExecuteScalarAsync<long>($"select count(*) {InProject} and t.content_id = any(@chosen)", new { chosen }));
    }

    [Fact]
    public async Task Accepted_labels_and_a_snapshot_train_into_a_registered_version_with_test_metrics_per_category_and_language()
    {
        await using (var connection = await app.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync(Ct))
        await using (var tx = await connection.BeginTransactionAsync(Ct))
        {
            await Outbox.AddAsync(connection, tx, new LabelAccepted("I will hurt you, reviewer-confirmed", "en", ["violence"], ContentSources.ChatMessage, Guid.NewGuid(),
                Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), DateTimeOffset.UtcNow), Ct);
            await tx.CommitAsync(Ct);
        }
        await Eventually.TrueAsync(async () =>
        {
            await using var connection = await app.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync(Ct);
            return await connection.ExecuteScalarAsync<bool>("select exists (select 1 from ml.examples where text = 'I will hurt you, reviewer-confirmed')");
        }, "the accepted label is an example", Patience);
        var (admin, snapshot) = await SnapshotAsync(6);

        var started = await admin.PostAsJsonAsync("/api/ml/training-jobs", new { snapshot, epochs = 8, buckets = 20_000 }, Ct);
        Assert.Equal(HttpStatusCode.Created, started.StatusCode);
        var id = (await started.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetGuid();
        var job = await FinishedAsync(admin, id);

        Assert.True(job.GetProperty("status").GetString() == "succeeded", job.GetProperty("log").GetString());
        Assert.Equal(8, job.GetProperty("epoch").GetInt32());
        Assert.Contains("epoch 8/8, validation loss", job.GetProperty("log").GetString());
        var version = await app.Services.GetRequiredService<BirbalAI.Ml.Registry.ModelRegistry>().FindAsync(job.GetProperty("versionId").GetGuid(), Ct);
        await using var db = await app.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync(Ct);
        var (snapshotHash, snapshotId, report, trainingJob) = await db.QuerySingleAsync<(string, Guid, string, Guid)>("""
            select s.blob_hash, s.id, v.test_report::text, v.training_job_id from ml.model_versions v join ml.snapshots s on s.id = v.snapshot_id where v.id = @Id
            """, new { version!.Id });
        Assert.Equal(snapshotHash, version.DataHash);
        Assert.Equal(id, trainingJob);
        Assert.Equal("ngram", version.Kind);
        Assert.Equal(20_000, version.FeaturizerSettings.Buckets);
        Assert.Contains("\"epochs\": 8", version.Training);
        var test = JsonDocument.Parse(report).RootElement;
        var violence = test.GetProperty("categories").EnumerateArray().Single(c => c.GetProperty("category").GetString() == "violence");
        Assert.True(violence.GetProperty("support").GetInt32() > 0);
        foreach (var metric in new[] { "precision", "recall", "f1", "pr_auc", "ece" }) Assert.InRange(violence.GetProperty(metric).GetDouble(), 0, 1);
        var confusion = violence.GetProperty("confusion");
        Assert.Equal(test.GetProperty("examples").GetInt32(), new[] { "tp", "fp", "fn", "tn" }.Sum(k => confusion.GetProperty(k).GetInt32()));
        Assert.Equal(["de", "en"], test.GetProperty("languages").EnumerateArray().Select(l => l.GetProperty("language").GetString()));
        Assert.NotNull(version.Evaluation);

        // The page shows the finished job and its version; the form starts from the defaults.
        var browser = await Accounts.SignedInAsync(app, Roles.Admin);
        var page = await browser.GetDocumentAsync($"/admin/ml/training/{job.GetProperty("number").GetInt32()}");
        Assert.Equal("succeeded", page.QuerySelector("#status")!.TextContent);
        Assert.Contains($"v{version.Number}", page.QuerySelector("#version")!.TextContent);
        var list = await browser.GetDocumentAsync("/admin/ml/training");
        Assert.Equal("25", list.QuerySelector("input[name='Start.Epochs']")!.GetAttribute("value"));

        // Its version page: plots drawn on the server, a comparison with production (v1) on this test split, promote and roll back.
        var versionUrl = $"/admin/ml/models/{version.Number}";
        var versionPage = await browser.GetDocumentAsync(versionUrl + "?compare=1");
        Assert.Contains(versionPage.QuerySelectorAll("svg#pr-curves polyline.curve"), p => p.GetAttribute("data-category") == "violence");
        Assert.NotEmpty(versionPage.QuerySelectorAll("svg#reliability circle.bin"));
        Assert.Equal(["de", "en"], versionPage.QuerySelectorAll("svg#language-f1 rect.bar").Select(r => r.GetAttribute("data-language")));
        Assert.NotEmpty(versionPage.QuerySelectorAll("svg#histogram-violence rect.positive"));
        // A category the test split has no positives of gets no precision, recall, F1 or PR-AUC (nothing to find), as macro-F1 counts it.
        Assert.Equal("no positives in the test split", versionPage.QuerySelector("#category-metrics tr[data-category='hate'] td[colspan='4']")?.TextContent);
        Assert.Equal(9, versionPage.QuerySelectorAll("#category-metrics tr[data-category='violence'] td").Length);
        Assert.Contains("against v1 on", versionPage.QuerySelector("#compare-summary")!.TextContent);
        Assert.NotNull(versionPage.QuerySelector("#comparison tr[data-category='violence'] .delta-f1"));
        var promoted = await browser.SubmitAsync(versionPage, "#promote", pageUrl: versionUrl);
        Assert.Equal(HttpStatusCode.OK, promoted.StatusCode);
        Assert.Equal(version.Number, (await app.Services.GetRequiredService<BirbalAI.Ml.Registry.ModelRegistry>().ProductionAsync(Ct))!.Number);
        var first = await browser.GetDocumentAsync("/admin/ml/models/1");
        Assert.Equal("Roll back to v1", first.QuerySelector("#promote button")!.TextContent);
        await browser.SubmitAsync(first, "#promote", pageUrl: "/admin/ml/models/1");
        Assert.Equal(1, (await app.Services.GetRequiredService<BirbalAI.Ml.Registry.ModelRegistry>().ProductionAsync(Ct))!.Number);
        Assert.Equal(2, await db.ExecuteScalarAsync<int>("select count(*) from identity.audit_log where kind = 'ml.model-promoted' and actor_id is not null"));
    }

    [Fact]
    public async Task A_job_started_from_the_form_can_be_cancelled_while_it_runs()
    {
        var (_, snapshot) = await SnapshotAsync(40);
        var browser = await Accounts.SignedInAsync(app, Roles.Admin);
        var form = await browser.GetDocumentAsync("/admin/ml/training");
        var started = await browser.SubmitAsync(form, "#start-training", new Dictionary<string, string>
        {
            ["Start.Snapshot"] = snapshot, ["Start.Epochs"] = "1000", ["Start.Buckets"] = "20000",
        }, pageUrl: "/admin/ml/training");
        Assert.Equal(HttpStatusCode.Redirect, started.StatusCode);
        var jobUrl = started.Headers.Location!.ToString();
        var jobs = app.Services.GetRequiredService<TrainingJobs>();
        var number = int.Parse(jobUrl.Split('/').Last(), System.Globalization.CultureInfo.InvariantCulture);
        await Eventually.TrueAsync(async () => (await jobs.FindAsync(number, Ct))!.Epoch > 0, "the job reports its first epochs", Patience);
        var running = await browser.GetDocumentAsync(jobUrl);
        Assert.Equal("running", running.QuerySelector("#status")!.TextContent);
        Assert.NotNull(running.QuerySelector("meta[http-equiv='refresh']"));

        var cancelled = await browser.SubmitAsync(running, "#cancel", pageUrl: jobUrl);

        Assert.Equal(HttpStatusCode.Redirect, cancelled.StatusCode);
        await Eventually.TrueAsync(async () => (await jobs.FindAsync(number, Ct))!.Status == TrainingJobs.Cancelled, "the job stops", Patience);
        var job = (await jobs.FindAsync(number, Ct))!;
        Assert.Null(job.VersionId);
        Assert.True(job.Epoch < 1000);
        Assert.Contains("cancel requested", job.Log);
    }

    [Fact]
    public async Task A_job_whose_worker_stopped_heartbeating_runs_again_and_bad_requests_are_refused()
    {
        var (admin, snapshot) = await SnapshotAsync(2);
        var jobs = app.Services.GetRequiredService<TrainingJobs>();
        // A run that a worker claimed and then died in: running, an old heartbeat, one attempt used.
        var id = Guid.CreateVersion7();
        await using (var connection = await app.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync(Ct))
            await connection.ExecuteAsync("""
                insert into ml.training_jobs (id, number, trigger, snapshot_id, kind, parameters, status, attempts, worker, started_at, heartbeat_at, epoch, epochs)
                select @id, (select coalesce(max(number), 0) + 1 from ml.training_jobs), 'api', s.id, 'ngram', '{"epochs": 3, "buckets": 20000}', 'running', 1,
                       'gone:1', now() - interval '1 minute', now() - interval '1 minute', 1, 3
                from ml.snapshots s where s.number = @Number
                """, new { id, Number = int.Parse(snapshot[1..], System.Globalization.CultureInfo.InvariantCulture) });

        Assert.Equal([(id, TrainingJobs.Queued)], await jobs.RecoverAsync(Ct));

        var job = await FinishedAsync(admin, id);
        Assert.Equal("succeeded", job.GetProperty("status").GetString());
        Assert.Equal(2, job.GetProperty("attempts").GetInt32());
        Assert.Contains("worker gone:1 stopped", job.GetProperty("log").GetString());
        Assert.Empty(await jobs.RecoverAsync(Ct));

        async Task<string> RefusedAsync(object body)
        {
            var response = await admin.PostAsJsonAsync("/api/ml/training-jobs", body, Ct);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            return (await response.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("detail").GetString()!;
        }
        Assert.Contains("no snapshot \"s999\"", await RefusedAsync(new { snapshot = "s999" }));
        Assert.Contains("epochs: 1 to 1000", await RefusedAsync(new { snapshot, epochs = 0 }));
        Assert.Contains("training jobs train the ngram kind", await RefusedAsync(new { snapshot, kind = "encoder" }));
        Assert.Equal(HttpStatusCode.Conflict, (await admin.PostAsync($"/api/ml/training-jobs/{id}/cancel", null, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.PostAsync($"/api/ml/training-jobs/{Guid.NewGuid()}/cancel", null, Ct)).StatusCode);
        var (member, _, _) = await Accounts.WithApiKeyAsync(app, Roles.Member);
        Assert.Equal(HttpStatusCode.Forbidden, (await member.PostAsJsonAsync("/api/ml/training-jobs", new { snapshot }, Ct)).StatusCode);
    }

    [Fact]
    public async Task Limits_on_active_jobs_and_log_lines_hold_and_the_schedule_trains_once_enough_labels_arrived()
    {
        var (_, snapshot) = await SnapshotAsync(1);
        var db = app.Services.GetRequiredService<NpgsqlDataSource>();
        var hangfire = app.Services.GetRequiredService<Hangfire.IBackgroundJobClient>();
        var snapshots = app.Services.GetRequiredService<BirbalAI.Ml.Datasets.Snapshots>();
        TrainingJobs With(TrainingOptions o) => new(db, hangfire, Microsoft.Extensions.Options.Options.Create(o));

        // A job that is "running" (its row only): with one active job allowed, the next is refused, naming the setting.
        var id = Guid.CreateVersion7();
        await using (var connection = await db.OpenConnectionAsync(Ct))
            await connection.ExecuteAsync("""
                insert into ml.training_jobs (id, number, trigger, snapshot_id, kind, parameters, status, attempts, worker, heartbeat_at)
                select @id, (select coalesce(max(number), 0) + 1 from ml.training_jobs), 'api', id, 'ngram', '{}', 'running', 1, 'test:1', now()
                from ml.snapshots order by number desc limit 1
                """, new { id });
        var refused = await With(new TrainingOptions { MaxActiveJobs = 1 }).StartAsync(snapshot, ModelKinds.Ngram, new TrainingParameters(), "api", null, snapshots, Ct);
        Assert.Null(refused.Job);
        Assert.Contains("Ml:Training:MaxActiveJobs", refused.Error);

        await With(new TrainingOptions { MaxLogLines = 10 }).HeartbeatAsync(id, null, [.. Enumerable.Range(1, 25).Select(i => $"line {i}")], Ct);
        var log = (await With(new TrainingOptions()).FindAsync(id, Ct))!.Log.Split('\n');
        Assert.Equal(10, log.Length);
        Assert.EndsWith("line 25", log[^1]);
        Assert.EndsWith("line 16", log[0]);
        await With(new TrainingOptions()).FinishAsync(id, TrainingJobs.Failed, "test over", null, null, "test over", Ct);

        // The schedule: not below the threshold of new reviewers' labels; once at it, a snapshot and a scheduled job; then not again.
        var schedule = With(new TrainingOptions { AutoTrainNewLabels = 1_000_000 });
        var auto = new BirbalAI.Ml.Jobs.AutoTrainJob(schedule, snapshots, Microsoft.Extensions.Options.Options.Create(new TrainingOptions { AutoTrainNewLabels = 1_000_000 }),
            Microsoft.Extensions.Logging.Abstractions.NullLogger<BirbalAI.Ml.Jobs.AutoTrainJob>.Instance);
        await auto.RunAsync(Ct);
        async Task<int> ScheduledAsync()
        {
            await using var connection = await db.OpenConnectionAsync(Ct);
            return await connection.ExecuteScalarAsync<int>("select count(*) from ml.training_jobs where trigger = 'schedule'");
        }
        Assert.Equal(0, await ScheduledAsync());
        await using (var connection = await db.OpenConnectionAsync(Ct))
        await using (var tx = await connection.BeginTransactionAsync(Ct))
        {
            await Outbox.AddAsync(connection, tx, new LabelAccepted("a scheduled label", "en", [], ContentSources.ChatMessage, Guid.NewGuid(),
                Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), DateTimeOffset.UtcNow), Ct);
            await tx.CommitAsync(Ct);
        }
        // This label itself, not any count above 0: an earlier test's label would make the count positive at once, and this one
        // arriving after the scheduled job would then schedule a second.
        await Eventually.TrueAsync(async () =>
        {
            await using var connection = await db.OpenConnectionAsync(Ct);
            return await connection.ExecuteScalarAsync<bool>("select exists (select 1 from ml.examples where text = 'a scheduled label')");
        }, "a reviewer's label arrived", Patience);
        var fresh = await schedule.NewLabelsSinceLastScheduledAsync(Ct);
        Assert.True(fresh > 0, "the accepted labels of this class count");
        var options = new TrainingOptions { AutoTrainNewLabels = (int)fresh };
        var due = new BirbalAI.Ml.Jobs.AutoTrainJob(With(options), snapshots, Microsoft.Extensions.Options.Options.Create(options),
            Microsoft.Extensions.Logging.Abstractions.NullLogger<BirbalAI.Ml.Jobs.AutoTrainJob>.Instance);
        await due.RunAsync(Ct);
        Assert.Equal(1, await ScheduledAsync());
        await due.RunAsync(Ct);
        Assert.Equal(1, await ScheduledAsync());
    }
}

/// <summary>A worker process killed mid-job: the job is not left running; the watchdog marks it failed (no runs left here).</summary>
public sealed class TrainingWorkerDeathTests : IClassFixture<App>
{
    readonly App app;

    public TrainingWorkerDeathTests(App app)
    {
        this.app = app;
        // No workers in this process: the job runs in the worker process the test kills.
        app.WithStarterModel().With("role", "web").With("Ml:Training:HeartbeatSeconds", "1").With("Ml:Training:HeartbeatTimeoutSeconds", "3").With("Ml:Training:MaxAttempts", "1");
    }

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    // The machine running the suite may be busy: asynchronous steps get a minute.
    static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_job_whose_worker_process_is_killed_is_marked_failed_never_left_running()
    {
        var (admin, _, _) = await Accounts.WithApiKeyAsync(app, Roles.Admin);
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync("/api/ml/datasets/import?format=jsonl&name=kill", new StringContent(TrainingJobTests.Data("k", 60)), Ct)).StatusCode);
        var snapshot = (await (await admin.PostAsync("/api/ml/datasets/snapshots", null, Ct)).Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("name").GetString();
        var id = (await (await admin.PostAsJsonAsync("/api/ml/training-jobs", new { snapshot, epochs = 1000, buckets = 20_000 }, Ct)).Content.ReadFromJsonAsync<JsonElement>(Ct))
            .GetProperty("id").GetGuid();
        var jobs = app.Services.GetRequiredService<TrainingJobs>();
        var settings = Hosting.AppProcess.Settings(app.Database, app.Prefix);
        settings["Listen__Worker"] = $"http://127.0.0.1:{Hosting.AppProcess.FreePort()}";
        settings["Ml__Training__HeartbeatSeconds"] = "1";

        await using (var worker = Hosting.AppProcess.Start(settings, "--role", "worker"))
        {
            await Eventually.TrueAsync(async () => (await jobs.FindAsync(id, Ct))!.Epoch > 0, "the worker process trains", TimeSpan.FromSeconds(90));
        }   // killed, mid-job

        Assert.Equal(TrainingJobs.Running, (await jobs.FindAsync(id, Ct))!.Status);
        await Eventually.TrueAsync(async () => (await jobs.RecoverAsync(Ct)).Count > 0, "the watchdog notices the missing heartbeat", Patience);
        var job = (await jobs.FindAsync(id, Ct))!;
        Assert.Equal(TrainingJobs.Failed, job.Status);
        Assert.Contains("stopped: no heartbeat", job.Error);
        Assert.NotNull(job.FinishedAt);
    }
}
