using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using BirbalAI.Annotation.Projects;
using BirbalAI.Contracts.Identity;
using BirbalAI.Testing;
using Dapper;
using Snapshooter.Xunit3;
using BirbalAI.Platform.Messaging;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using RabbitMQ.Client;

namespace BirbalAI.IntegrationTests.Annotation;

/// <summary>Importing items to label (JSONL, CSV, Label Studio JSON): a validation report with line numbers, nothing committed on a bad row unless skipped, the limits; the export and its round trip.</summary>
public sealed class ImportTests(ImportTests.AppFixture fixture) : IClassFixture<ImportTests.AppFixture>, IAsyncLifetime
{
    /// <summary>
    /// One web app for a class: each test has its own Admin key and projects; a worker replica lives as long as the test that
    /// starts it. The test of Ml's dataset counts across the deployment: it has a class (and an app) of its own, <see cref="ImportedLabelsTests"/>.
    /// </summary>
    public sealed class AppFixture : IAsyncLifetime
    {
        public App App { get; } = new();

        public async ValueTask InitializeAsync()
        {
            await App.InitializeAsync();
            // A web app runs no jobs and no consumers: a test that needs them starts a worker replica beside it (WorkerAsync).
            Limits(App).With("role", "web");
        }

        public ValueTask DisposeAsync() => App.DisposeAsync();
    }

    readonly App app = fixture.App;
    HttpClient admin = null!;
    Guid project;

    public async ValueTask InitializeAsync()
    {
        (admin, _, _) = await Accounts.WithApiKeyAsync(app, Roles.Admin);
        var created = await admin.PostAsJsonAsync("/api/annotation/projects", new { name = $"imported {Guid.NewGuid():N}", overlap = 1 }, Ct);
        project = (await created.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetGuid();
    }

    public async ValueTask DisposeAsync()
    {
        if (worker is not null) await worker.DisposeAsync();
    }

    App? worker;

    static BirbalAI.Testing.BirbalApp<Program> Limits(App to) =>
        to.With("Annotation:MaxImportRows", "5").With("Annotation:ImportJobThresholdBytes", "2048").With("Annotation:MaxImportBytes", "16384")
            .With("Annotation:ImportJobAttempts", "2").With("Annotation:ImportJobRetrySeconds", "0");

    /// <summary>Starts a worker replica of the app (Hangfire's server, the outbox relay, the consumers), with the same settings.</summary>
    async Task WorkerAsync()
    {
        worker = App.ReplicaOf(app);
        Limits(worker).With("role", "worker");
        await worker.InitializeAsync();
        _ = worker.Services;
    }

    /// <summary>How many of a project's imports still hold their uploaded file.</summary>
    async Task<long> StoredFilesAsync(Guid into)
    {
        await using var connection = await app.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync(Ct);
        return await connection.ExecuteScalarAsync<long>("select count(*) from annotation.imports where project_id = @into and file is not null", new { into });
    }

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    Task<HttpResponseMessage> ImportAsync(string format, string body, bool skip = false, Guid? into = null) =>
        admin.PostAsync($"/api/annotation/projects/{into ?? project}/import?format={format}{(skip ? "&skipBadRows=true" : "")}",
            new StringContent(body, Encoding.UTF8, format == "csv" ? "text/csv" : "application/x-ndjson"), Ct);


    async Task<Guid> ProjectAsync()
    {
        var created = await admin.PostAsJsonAsync("/api/annotation/projects", new { name = $"imported {Guid.NewGuid():N}", overlap = 2 }, Ct);
        return (await created.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetGuid();
    }

    static string Fixture(string name) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Annotation", "Fixtures", name));

    /// <summary>The project's tasks in import order: id, text, status, accepted categories, labels ("who: categories severities"), scores.</summary>
    async Task<List<(Guid Id, string Text, string Status, string[]? Final, string Labels, string Scores)>> LabelledAsync(Guid into)
    {
        await using var connection = await app.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync(Ct);
        return [.. await connection.QueryAsync<(Guid, string, string, string[]?, string, string)>("""
            select t.id, t.text, t.status, t.final_categories,
                coalesce((select string_agg(n.user_name || ': ' || array_to_string(n.categories, ',') || ' ' || n.severities::text, ' | ' order by n.user_name)
                          from annotation.annotations n where n.task_id = t.id and n.published_at is not null), ''),
                t.scores::text
            from annotation.tasks t where t.project_id = @into order by t.created_at
            """, new { into })];
    }

    async Task<string> ExportAsync(Guid from, string format)
    {
        var response = await admin.GetAsync($"/api/annotation/projects/{from}/export?format={format}", Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync(Ct);
    }
    async Task<List<(string Text, string Language)>> TasksAsync()
    {
        await using var connection = await app.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync(Ct);
        return [.. await connection.QueryAsync<(string, string)>("select text, language from annotation.tasks where project_id = @project order by text", new { project })];
    }

    [Fact]
    public async Task Jsonl_and_csv_rows_become_tasks()
    {
        var jsonl = await ImportAsync("jsonl", "{\"text\": \"first line\", \"language\": \"en\"}\n\n{\"text\": \"zweite Zeile\", \"language\": \"de\"}\n");
        var csv = await ImportAsync("csv", "text,language\n\"a, quoted\nline\",fr\nplain,\n");

        Assert.Equal(2, (await jsonl.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("imported").GetInt32());
        Assert.Equal(2, (await csv.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("imported").GetInt32());
        Assert.Equal([("a, quoted\nline", "fr"), ("first line", "en"), ("plain", "und"), ("zweite Zeile", "de")], await TasksAsync());
    }

    [Fact]
    public async Task A_bad_row_commits_nothing_and_is_reported_by_line_unless_bad_rows_are_skipped()
    {
        const string file = "{\"text\": \"good one\"}\n{\"text\": \"\"}\nnot json\n{\"text\": \"good two\"}\n{\"text\": \"a \\u0000 in it\"}\n";

        var refused = await ImportAsync("jsonl", file);
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        var problem = await refused.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal([2, 3, 5], problem.GetProperty("errors").EnumerateArray().Select(e => e.GetProperty("line").GetInt32()));
        Assert.Contains("line 5: contains a NUL character", problem.GetProperty("detail").GetString());   // a row PostgreSQL cannot store, not a failed import
        Assert.Contains("line 2: text is missing or empty", problem.GetProperty("detail").GetString());
        Assert.Empty(await TasksAsync());

        var skipped = await (await ImportAsync("jsonl", file, skip: true)).Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal(2, skipped.GetProperty("imported").GetInt32());
        Assert.Equal([2, 3, 5], skipped.GetProperty("skipped").EnumerateArray().Select(e => e.GetProperty("line").GetInt32()));
        Assert.Equal(["good one", "good two"], (await TasksAsync()).Select(t => t.Text));
    }

    [Fact]
    public async Task Limits_and_wrong_targets_are_refused_with_a_reason()
    {
        var tooMany = await ImportAsync("jsonl", string.Concat(Enumerable.Range(0, 6).Select(i => $"{{\"text\": \"line {i}\"}}\n")));
        Assert.Equal(HttpStatusCode.BadRequest, tooMany.StatusCode);
        Assert.Contains("Annotation:MaxImportRows", await tooMany.Content.ReadAsStringAsync(Ct));
        Assert.Equal(HttpStatusCode.BadRequest, (await ImportAsync("xml", "<x/>")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await ImportAsync("csv", "words\nhello\n")).StatusCode);   // no text column
        Assert.Equal(HttpStatusCode.BadRequest, (await ImportAsync("jsonl", "{\"text\": \"x\"}", into: ProjectAccess.ModerationId)).StatusCode);
        Assert.Empty(await TasksAsync());
        var (annotator, _, _) = await Accounts.WithApiKeyAsync(app, Roles.Annotator);
        Assert.Equal(HttpStatusCode.Forbidden, (await annotator.PostAsync($"/api/annotation/projects/{project}/import?format=jsonl", new StringContent("{}"), Ct)).StatusCode);
    }

    [Fact]
    public async Task Label_Studio_tasks_import_with_their_annotations_as_labels_and_their_predictions_as_scores()
    {
        var into = await ProjectAsync();

        var imported = await ImportAsync("labelstudio", Fixture("labelstudio-tasks.json"), into: into);

        Assert.Equal(HttpStatusCode.OK, imported.StatusCode);
        var tasks = await LabelledAsync(into);
        Assert.Equal(["people like you should be banned from the market", "the tomatoes are late this year", "stop posting or I will come round", "das Treffen ist am Dienstag"],
            tasks.Select(t => t.Text));
        // One label: accepted as it is, its severity kept; two agreeing on "none": accepted; two disagreeing: a reviewer decides; only a cancelled one: open.
        Assert.Equal(["done", "done", "review", "open"], tasks.Select(t => t.Status));
        Assert.Equal(["harassment", "hate"], tasks[0].Final!);
        Assert.Equal("labelstudio user 3: hate,harassment {\"hate\": 2}", tasks[0].Labels);
        Assert.Equal("{\"hate\": 0.81}", tasks[0].Scores);
        Assert.Equal([], tasks[1].Final!);
        Assert.Equal("labelstudio user 3: harassment/threatening {} | labelstudio user 4: harassment {}", tasks[2].Labels);
        Assert.Equal("", tasks[3].Labels);

        // A category the project does not have, a severity out of range, a task without data: reported by the task's position; nothing imported.
        var other = await ProjectAsync();
        var bad = await ImportAsync("labelstudio", """
            [{"data": {"text": "fine"}},
             {"data": {"text": "x"}, "annotations": [{"result": [{"type": "choices", "from_name": "c", "to_name": "text", "value": {"choices": ["spam"]}}]}]},
             {"data": {"text": "y"}, "annotations": [{"result": [{"type": "choices", "from_name": "c", "to_name": "text", "value": {"choices": ["hate"]}},
                                                                 {"type": "rating", "from_name": "severity:hate", "to_name": "text", "value": {"rating": 7}}]}]},
             {"text": "no data"}]
            """, into: other);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var errors = (await bad.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("errors").EnumerateArray().ToList();
        Assert.Equal([2, 3, 4], errors.Select(e => e.GetProperty("line").GetInt32()));
        Assert.Contains("spam", errors[0].GetProperty("error").GetString());
        Assert.Empty(await LabelledAsync(other));
        Assert.Equal(HttpStatusCode.BadRequest, (await ImportAsync("labelstudio", "{\"data\": ", into: other)).StatusCode);
        Assert.Empty(await LabelledAsync(other));
    }

    [Fact]
    public async Task Export_then_import_gives_the_same_labels_in_every_format()
    {
        var source = await ProjectAsync();
        Assert.Equal(HttpStatusCode.OK, (await ImportAsync("labelstudio", Fixture("labelstudio-tasks.json"), into: source)).StatusCode);
        var ids = (await LabelledAsync(source)).Select((t, i) => (t.Id, Name: $"task-{i + 1}")).ToList();
        string Named(string export) => ids.Aggregate(export, (e, id) => e.Replace(id.Id.ToString(), id.Name));

        var exports = new Dictionary<string, string>();
        foreach (var format in new[] { "jsonl", "csv", "labelstudio" })
        {
            var first = await ExportAsync(source, format);
            var copy = await ProjectAsync();
            var again = await ImportAsync(format, first, into: copy);
            Assert.True(again.IsSuccessStatusCode, await again.Content.ReadAsStringAsync(Ct));
            var copied = await LabelledAsync(copy);
            Assert.Equal(["done", "done"], copied.Select(t => t.Status));
            var second = await ExportAsync(copy, format);
            var copyIds = copied.Select((t, i) => (t.Id, Name: $"task-{i + 1}")).ToList();
            Assert.Equal(Named(first), copyIds.Aggregate(second, (e, id) => e.Replace(id.Id.ToString(), id.Name)));   // the same labels, severities and texts
            exports[format] = Named(first);
        }
        Assert.Equal(HttpStatusCode.BadRequest, (await admin.GetAsync($"/api/annotation/projects/{source}/export?format=xml", Ct)).StatusCode);
        var (annotator, _, _) = await Accounts.WithApiKeyAsync(app, Roles.Annotator);
        Assert.Equal(HttpStatusCode.Forbidden, (await annotator.GetAsync($"/api/annotation/projects/{source}/export?format=jsonl", Ct)).StatusCode);
        // Only accepted labels: the task waiting for review and the open one are not in it.
        Snapshot.Match(new
        {
            jsonl = exports["jsonl"].Split('\n'),
            csv = exports["csv"].Split('\n'),
            labelstudio = Newtonsoft.Json.Linq.JToken.Parse(exports["labelstudio"]),
        });
    }

    [Fact]
    public async Task A_file_over_the_job_threshold_is_kept_in_the_database_and_imported_by_a_job_on_another_replica_with_its_progress_on_the_project_page_and_one_over_the_size_limit_is_refused()
    {
        var into = await ProjectAsync();
        var good = Rows([.. Enumerable.Range(1, 5).Select(i => $"item {i} " + new string('x', 500))]);
        var bad = Rows("fine " + new string('y', 1000), "", "also fine " + new string('z', 1000));
        Assert.True(good.Length > 2048 && bad.Length > 2048);

        var queued = await ImportAsync("jsonl", good, into: into);
        var refused = await ImportAsync("jsonl", bad, into: into);

        Assert.Equal(HttpStatusCode.Accepted, queued.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, refused.StatusCode);
        // The web app runs no jobs: the files wait in the database, with their imports, until a worker replica runs them.
        Assert.Equal("queued", (await admin.GetFromJsonAsync<JsonElement>(queued.Headers.Location, Ct)).GetProperty("status").GetString());
        Assert.Equal(2, await StoredFilesAsync(into));
        await WorkerAsync();
        JsonElement done = default, failed = default;
        await Eventually.TrueAsync(async () =>
        {
            done = await admin.GetFromJsonAsync<JsonElement>(queued.Headers.Location, Ct);
            failed = await admin.GetFromJsonAsync<JsonElement>(refused.Headers.Location, Ct);
            return done.GetProperty("status").GetString() == "done" && failed.GetProperty("status").GetString() == "failed";
        }, "both import jobs ran", TimeSpan.FromSeconds(60), app.Database.DescribeHangfireAsync);
        Assert.Equal(5, done.GetProperty("imported").GetInt32());
        Assert.Equal(5, (await LabelledAsync(into)).Count);   // the bad file added nothing
        Assert.Contains("line 2: text is missing or empty", failed.GetProperty("error").GetString());
        Assert.Equal(0, await StoredFilesAsync(into));   // dropped once the import is done or failed

        var page = await (await Accounts.SignedInAsync(app, Roles.Admin)).GetDocumentAsync($"/annotation/projects/{into}");
        Assert.Equal(["failed", "done"], page.QuerySelectorAll("#imports tbody tr").Select(r => r.GetAttribute("data-status")));
        Assert.Contains("5 imported", page.QuerySelector("#imports")!.TextContent);

        var tooLarge = await ImportAsync("jsonl", Rows(new string('w', 17_000)), into: into);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge.StatusCode);
        Assert.Contains("Annotation:MaxImportBytes", await tooLarge.Content.ReadAsStringAsync(Ct));
        Assert.Equal(5, (await LabelledAsync(into)).Count);
    }

    /// <summary>Posts the project page's import form as a browser does (multipart, with the page's antiforgery token): the answer and the page it shows.</summary>
    static async Task<(HttpResponseMessage Response, AngleSharp.Html.Dom.IHtmlDocument Page)> PageImportAsync(HttpClient browser, Guid into, string format, string file,
        bool skip = false)
    {
        var page = await browser.GetDocumentAsync($"/annotation/projects/{into}");
        var form = page.QuerySelector("#import-form") ?? throw new InvalidOperationException("no import form on the project page");
        using var content = new MultipartFormDataContent();
        foreach (var hidden in form.QuerySelectorAll("input[type=hidden]"))
            content.Add(new StringContent(hidden.GetAttribute("value") ?? ""), hidden.GetAttribute("name")!);
        content.Add(new StringContent(format), "format");
        if (skip) content.Add(new StringContent("true"), "skipBadRows");
        content.Add(new ByteArrayContent(Encoding.UTF8.GetBytes(file)), "file", $"items.{format}");
        var response = await browser.PostAsync(form.GetAttribute("action"), content, Ct);
        return (response, await HtmlForms.ParseAsync(response));
    }

    static string Rows(params string[] texts) => string.Concat(texts.Select(t => JsonSerializer.Serialize(new { text = t }) + "\n"));

    [Fact]
    public async Task An_Admin_imports_on_the_project_page_and_sees_how_many_or_the_bad_rows_by_line_and_an_Annotator_cannot()
    {
        var browser = await Accounts.SignedInAsync(app, Roles.Admin);
        const string file = "{\"text\": \"page one\"}\n{\"text\": \"\"}\n{\"text\": \"page two\", \"categories\": [\"no such\"]}\n{\"text\": \"page three\"}\n";

        var (refused, refusedPage) = await PageImportAsync(browser, project, "jsonl", file);
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("2 bad rows in items.jsonl; nothing was imported", refusedPage.QuerySelector("[role=alert]")!.TextContent);
        var lines = refusedPage.QuerySelectorAll("#import-errors tbody tr").ToList();
        Assert.Equal(["2", "3"], lines.Select(r => r.GetAttribute("data-line")));
        Assert.Contains("text is missing or empty", lines[0].TextContent);
        Assert.Contains("not a category of this project: no such", lines[1].TextContent);
        Assert.Empty(await TasksAsync());

        var (skipped, skippedPage) = await PageImportAsync(browser, project, "jsonl", file, skip: true);
        Assert.Equal(HttpStatusCode.OK, skipped.StatusCode);
        Assert.Equal("2 imported from items.jsonl; 2 bad rows skipped (listed below).", skippedPage.QuerySelector("#result")!.TextContent);
        Assert.Equal(["2", "3"], skippedPage.QuerySelectorAll("#import-errors tbody tr").Select(r => r.GetAttribute("data-line")));
        Assert.Equal(["page one", "page three"], (await TasksAsync()).Select(t => t.Text));

        var (csv, csvPage) = await PageImportAsync(browser, project, "csv", "text,language\nfrom a csv,fr\n");
        Assert.Equal(HttpStatusCode.OK, csv.StatusCode);
        Assert.Equal("1 imported from items.csv.", csvPage.QuerySelector("#result")!.TextContent);
        Assert.Contains(("from a csv", "fr"), await TasksAsync());

        // The limits the API has, refused on the page with the setting named; a large file is queued and listed under Large imports (no worker runs here).
        var (tooMany, tooManyPage) = await PageImportAsync(browser, project, "jsonl", Rows([.. Enumerable.Range(0, 6).Select(i => $"row {i}")]));
        Assert.Equal(HttpStatusCode.BadRequest, tooMany.StatusCode);
        Assert.Contains("Annotation:MaxImportRows", tooManyPage.QuerySelector("[role=alert]")!.TextContent);
        var (tooLarge, tooLargePage) = await PageImportAsync(browser, project, "jsonl", Rows(new string('w', 17_000)));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge.StatusCode);
        Assert.Contains("Annotation:MaxImportBytes", tooLargePage.QuerySelector("[role=alert]")!.TextContent);
        var (unformatted, unformattedPage) = await PageImportAsync(browser, project, "xml", "<x/>");
        Assert.Equal(HttpStatusCode.BadRequest, unformatted.StatusCode);
        Assert.Contains("format: jsonl, csv or labelstudio", unformattedPage.QuerySelector("[role=alert]")!.TextContent);
        var (empty, emptyPage) = await PageImportAsync(browser, project, "jsonl", "");
        Assert.Equal(HttpStatusCode.BadRequest, empty.StatusCode);
        Assert.Contains("Choose a file to import.", emptyPage.QuerySelector("[role=alert]")!.TextContent);
        Assert.Equal(3, (await TasksAsync()).Count);
        var (queued, queuedPage) = await PageImportAsync(browser, project, "jsonl", Rows([.. Enumerable.Range(1, 5).Select(i => $"large {i} " + new string('x', 500))]));
        Assert.Equal(HttpStatusCode.OK, queued.StatusCode);
        Assert.Contains("queued as a job", queuedPage.QuerySelector("#result")!.TextContent);
        Assert.Single(queuedPage.QuerySelectorAll("#imports tbody tr[data-status=queued]"));
        Assert.Null((await browser.GetDocumentAsync($"/annotation/projects/{ProjectAccess.ModerationId}")).QuerySelector("#import-form"));   // it takes its tasks from Chat

        // An Annotator of the project sees neither the form nor the export, and posting the form anyway (with a valid antiforgery token) is denied.
        var (annotatorId, annotatorEmail) = await Accounts.CreateAsync(app, Roles.Annotator);
        Assert.True((await admin.PostAsJsonAsync($"/api/annotation/projects/{project}/members", new { userId = annotatorId }, Ct)).IsSuccessStatusCode);
        var annotator = await Accounts.SignInAsync(app, annotatorEmail);
        var theirs = await annotator.GetDocumentAsync($"/annotation/projects/{project}");
        Assert.NotNull(theirs.QuerySelector("#progress"));
        Assert.Null(theirs.QuerySelector("#import-form"));
        Assert.Null(theirs.QuerySelector("#export"));
        using var forged = new MultipartFormDataContent
        {
            { new StringContent(theirs.QuerySelector("input[name=__RequestVerificationToken]")!.GetAttribute("value")!), "__RequestVerificationToken" },
            { new StringContent("jsonl"), "format" },
            { new ByteArrayContent(Encoding.UTF8.GetBytes(Rows("by an annotator"))), "file", "items.jsonl" },
        };
        var denied = await annotator.PostAsync($"/annotation/projects/{project}?handler=Import", forged, Ct);
        Assert.Equal(HttpStatusCode.Redirect, denied.StatusCode);
        Assert.Equal("/account/denied", denied.Headers.Location!.AbsolutePath);
        Assert.DoesNotContain(await TasksAsync(), t => t.Text == "by an annotator");
    }

    [Fact]
    public async Task The_project_pages_export_links_download_what_the_API_exports()
    {
        var source = await ProjectAsync();
        Assert.Equal(HttpStatusCode.OK, (await ImportAsync("labelstudio", Fixture("labelstudio-tasks.json"), into: source)).StatusCode);
        var browser = await Accounts.SignedInAsync(app, Roles.Admin);

        var links = (await browser.GetDocumentAsync($"/annotation/projects/{source}")).QuerySelectorAll("#export a").ToList();

        Assert.Equal(["jsonl", "csv", "labelstudio"], links.Select(a => a.GetAttribute("data-format")));
        foreach (var link in links)
        {
            var download = await browser.GetAsync(link.GetAttribute("href"), Ct);
            Assert.Equal(HttpStatusCode.OK, download.StatusCode);
            Assert.StartsWith($"labels-{source}.", download.Content.Headers.ContentDisposition!.FileNameStar ?? download.Content.Headers.ContentDisposition.FileName);
            var exported = await ExportAsync(source, link.GetAttribute("data-format")!);
            Assert.Contains("people like you should be banned from the market", exported);   // the two accepted labels, not an empty file
            Assert.Equal(exported, await download.Content.ReadAsStringAsync(Ct));
        }
    }

    [Fact]
    public async Task An_import_job_that_fails_every_attempt_or_whose_workers_keep_stopping_ends_failed_with_the_reason_never_running()
    {
        var into = await ProjectAsync();
        var file = Rows([.. Enumerable.Range(1, 5).Select(i => $"item {i} " + new string('x', 500))]);
        var broken = await ImportAsync("jsonl", file, into: into);
        var abandoned = await ImportAsync("jsonl", file, into: into);
        Assert.Equal(HttpStatusCode.Accepted, broken.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, abandoned.StatusCode);
        var (brokenId, abandonedId) = (Guid.Parse(broken.Headers.Location!.OriginalString.Split('/')[^1]), Guid.Parse(abandoned.Headers.Location!.OriginalString.Split('/')[^1]));
        await using (var connection = await app.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync(Ct))
        {
            // The stored import corrupted, so that every attempt throws; the other as a worker that died on the last attempt leaves it (Hangfire runs the job again).
            await connection.ExecuteAsync("update annotation.imports set format = 'xml' where id = @brokenId", new { brokenId });
            await connection.ExecuteAsync("update annotation.imports set status = 'running', phase = 'reading', attempts = 2 where id = @abandonedId", new { abandonedId });
        }

        await WorkerAsync();

        JsonElement failed = default, stopped = default;
        await Eventually.TrueAsync(async () =>
        {
            failed = await admin.GetFromJsonAsync<JsonElement>(broken.Headers.Location, Ct);
            stopped = await admin.GetFromJsonAsync<JsonElement>(abandoned.Headers.Location, Ct);
            return failed.GetProperty("status").GetString() == "failed" && stopped.GetProperty("status").GetString() == "failed";
        }, "both imports failed", TimeSpan.FromSeconds(60), app.Database.DescribeHangfireAsync);
        Assert.Contains("failed 2 times (Annotation:ImportJobAttempts), last with ArgumentOutOfRangeException", failed.GetProperty("error").GetString());
        Assert.Contains("its worker stopped before it finished, 2 times", stopped.GetProperty("error").GetString());
        var attempts = await ScalarAsync<int[]>($"select array_agg(attempts order by attempts) from annotation.imports where project_id = '{into}'");
        Assert.Equal([2, 3], attempts);   // two attempts; the abandoned one's third claim failed it
        Assert.Empty(await LabelledAsync(into));
        Assert.Equal(0, await StoredFilesAsync(into));
        var page = await (await Accounts.SignedInAsync(app, Roles.Admin)).GetDocumentAsync($"/annotation/projects/{into}");
        Assert.Equal(["failed", "failed"], page.QuerySelectorAll("#imports tbody tr").Select(r => r.GetAttribute("data-status")));
        Assert.Contains("last with ArgumentOutOfRangeException", page.QuerySelector("#imports")!.TextContent);
    }

    /// <summary>The test of <see cref="ImportedLabelsTests"/>.</summary>
    internal async Task Imported_accepted_labels_reach_Mls_dataset_once_and_unlabelled_or_disagreeing_rows_do_not()
    {
        await WorkerAsync();   // the outbox relay and Ml's consumer
        var labelled = string.Join("\n",
            """{"text": "imported hate", "language": "en", "categories": ["hate"]}""",
            """{"text": "imported none applies", "categories": []}""",
            """{"text": "imported task"}""",
            """{"text": "imported bad", "categories": ["no such category"]}""");
        var imported = await ImportAsync("jsonl", labelled, skip: true);
        Assert.Equal(HttpStatusCode.OK, imported.StatusCode);
        // Label Studio: two annotators who agree are an accepted label; two who disagree wait for a reviewer.
        var labelStudio = JsonSerializer.Serialize(new object[]
        {
            LabelStudioTask("studio agreed", ("ann", ["violence"]), ("bob", ["violence"])),
            LabelStudioTask("studio disagreed", ("ann", ["hate"]), ("bob", [])),
        });
        Assert.Equal(HttpStatusCode.OK, (await ImportAsync("labelstudio", labelStudio)).StatusCode);

        async Task<long> HandledAsync() => await ScalarAsync<long>("select count(*) from platform.inbox where handler like 'ml.%LabelAccepted%'");
        await Eventually.TrueAsync(async () => await HandledAsync() == 3, "Ml handled the three accepted labels");
        Assert.Equal(["imported hate: hate (en, label)", "imported none applies:  (und, label)", "studio agreed: violence (und, label)"], await ExamplesAsync());

        // The broker delivers every event again, and the same file is imported again into another project: still one example a text.
        var rabbit = worker!.Services.GetRequiredService<RabbitConnection>();
        await using (var channel = await rabbit.CreateConfirmingChannelAsync(Ct))
        {
            await using var connection = await app.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync(Ct);
            foreach (var (id, payload) in await connection.QueryAsync<(Guid, string)>(
                         "select id, payload::text from platform.outbox where wire_name = 'annotation.label-accepted.v1'"))
                await channel.BasicPublishAsync(rabbit.Options.Exchange, "annotation.label-accepted.v1", mandatory: false,
                    new BasicProperties { MessageId = id.ToString(), Type = "annotation.label-accepted.v1", ContentType = "application/json" },
                    Encoding.UTF8.GetBytes(payload), Ct);
        }
        Assert.Equal(HttpStatusCode.OK, (await ImportAsync("jsonl", labelled, skip: true, into: await ProjectAsync())).StatusCode);
        await Eventually.TrueAsync(async () => await HandledAsync() == 5, "Ml handled the second import's two labels");
        Assert.Equal(["imported hate: hate (en, label)", "imported none applies:  (und, label)", "studio agreed: violence (und, label)"], await ExamplesAsync());
        Assert.Equal(3, await ScalarAsync<long>("select count(*) from ml.examples"));
    }

    static object LabelStudioTask(string text, params (string By, string[] Choices)[] annotations) => new
    {
        data = new { text },
        annotations = annotations.Select(a => new
        {
            completed_by = a.By,
            result = new[] { new { type = "choices", from_name = "categories", to_name = "text", value = new { choices = a.Choices } } },
        }),
    };

    async Task<T> ScalarAsync<T>(string sql)
    {
        await using var connection = await app.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync(Ct);
        return await connection.ExecuteScalarAsync<T>(sql) ?? throw new InvalidOperationException(sql);
    }

    /// <summary>Ml's examples of imported items: "text: categories (language, origin)".</summary>
    async Task<List<string>> ExamplesAsync()
    {
        await using var connection = await app.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync(Ct);
        return [.. await connection.QueryAsync<string>("""
            select text || ': ' || array_to_string(categories, ',') || ' (' || language || ', ' || origin || ')'
            from ml.examples where source = 'import' order by text
            """)];
    }
}

/// <summary>An app of its own: the test counts Ml's examples and inbox, and replays every accepted label in the outbox.</summary>
public sealed class ImportedLabelsTests(ImportTests.AppFixture fixture) : IClassFixture<ImportTests.AppFixture>, IAsyncLifetime
{
    readonly ImportTests imports = new(fixture);

    public ValueTask InitializeAsync() => imports.InitializeAsync();
    public ValueTask DisposeAsync() => imports.DisposeAsync();

    [Fact]
    public Task Imported_accepted_labels_reach_Mls_dataset_once_and_unlabelled_or_disagreeing_rows_do_not() =>
        imports.Imported_accepted_labels_reach_Mls_dataset_once_and_unlabelled_or_disagreeing_rows_do_not();
}
