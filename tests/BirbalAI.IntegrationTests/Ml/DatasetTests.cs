using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using BirbalAI.Contracts.Annotation;
using BirbalAI.Contracts.Identity;
using BirbalAI.Ml.Datasets;
using BirbalAI.Platform.Messaging;
using BirbalAI.Testing;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace BirbalAI.IntegrationTests.Ml;

/// <summary>
/// Datasets on the real servers: accepted labels and imports become examples (once per source and content id), snapshots are
/// immutable and content-hashed in the blob store with a split that never moves, removed content leaves later snapshots, and
/// retention keeps what a registered version was trained on.
/// </summary>
public sealed class DatasetTests : IClassFixture<App>
{
    readonly App app;

    public DatasetTests(App app)
    {
        this.app = app;
        app.WithStarterModel().With("Ml:Datasets:MaxImportRows", "40").With("Ml:Datasets:RetentionDays", "30");
    }

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    // The machine running the suite may be busy: asynchronous steps get a minute.
    static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    NpgsqlDataSource Db => app.Services.GetRequiredService<NpgsqlDataSource>();

    async Task PublishAsync<TEvent>(TEvent evt) where TEvent : class
    {
        await using var connection = await Db.OpenConnectionAsync(Ct);
        await using var tx = await connection.BeginTransactionAsync(Ct);
        await Outbox.AddAsync(connection, tx, evt, Ct);
        await tx.CommitAsync(Ct);
    }

    async Task<List<(string Text, string[] Categories, string? Split, bool Removed)>> ExamplesAsync(string source, string? contentId = null)
    {
        await using var connection = await Db.OpenConnectionAsync(Ct);
        return [.. (await connection.QueryAsync<(string, string[], string?, bool)>(
            "select text, categories, split, removed_at is not null from ml.examples where source = @source and (@contentId::text is null or content_id = @contentId) order by text",
            new { source, contentId })).Select(r => (r.Item1, r.Item2, r.Item3, r.Item4))];
    }

    static LabelAccepted Label(string source, Guid contentId, string text, string[] categories, DateTimeOffset at) =>
        new(text, "en", categories, source, contentId, Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), at);

    static string Jsonl(string prefix, int count, Func<int, string> labels, string first = "en", string second = "de") =>
        string.Concat(Enumerable.Range(0, count).Select(i => $"{{\"text\": \"{prefix} example {i}\", \"labels\": {labels(i)}, \"language\": \"{(i % 4 < 2 ? first : second)}\"}}\n"));

    [Fact]
    public async Task An_accepted_label_becomes_one_example_per_content_and_a_later_label_replaces_it()
    {
        var source = "test." + Guid.NewGuid().ToString("N")[..8];
        var content = Guid.NewGuid();
        var now = DateTimeOffset.UtcNow;

        await PublishAsync(Label(source, content, "first wording", ["hate"], now));
        await Eventually.TrueAsync(async () => (await ExamplesAsync(source)).Count == 1, "the label becomes an example", Patience);
        await PublishAsync(Label(source, content, "first wording", ["hate", "harassment"], now.AddSeconds(1)));
        await PublishAsync(Label(source, content, "an older label arriving late", [], now.AddSeconds(-10)));
        await PublishAsync(Label(source, Guid.NewGuid(), "another content", [], now));

        await Eventually.TrueAsync(async () => (await ExamplesAsync(source)).Count == 2, "the second content is an example of its own", Patience);
        await Eventually.TrueAsync(async () => (await ExamplesAsync(source, content.ToString())).Single().Categories.Length == 2, "the later label replaced the first", Patience);
        var example = (await ExamplesAsync(source, content.ToString())).Single();
        Assert.Equal("first wording", example.Text);
        Assert.Equal(["hate", "harassment"], example.Categories);
    }

    [Fact]
    public async Task A_file_import_adds_each_text_once_and_a_bad_file_imports_nothing()
    {
        var (admin, _, _) = await Accounts.WithApiKeyAsync(app, Roles.Admin);
        var name = "i" + Guid.NewGuid().ToString("N")[..8];
        var body = Jsonl(name, 6, i => i % 3 == 0 ? "[\"violence\"]" : "[]");

        var first = await (await admin.PostAsync($"/api/ml/datasets/import?format=jsonl&name={name}", new StringContent(body), Ct)).Content.ReadFromJsonAsync<JsonElement>(Ct);
        var again = await (await admin.PostAsync($"/api/ml/datasets/import?format=jsonl&name={name}", new StringContent(body), Ct)).Content.ReadFromJsonAsync<JsonElement>(Ct);
        var csv = await admin.PostAsync($"/api/ml/datasets/import?format=csv&name={name}", new StringContent("text,hate,language\n\"a, quoted line\",1,fr\n"), Ct);

        Assert.Equal(6, first.GetProperty("added").GetInt32());
        Assert.Equal(0, again.GetProperty("added").GetInt32());
        Assert.Equal(HttpStatusCode.OK, csv.StatusCode);
        var stored = await ExamplesAsync($"import:{name}");
        Assert.Equal(7, stored.Count);
        Assert.Equal(["hate"], stored.Single(s => s.Text == "a, quoted line").Categories);

        var bad = await admin.PostAsync($"/api/ml/datasets/import?format=jsonl&name={name}-bad",
            new StringContent("{\"text\": \"fine\", \"labels\": []}\n{\"text\": \"x\", \"labels\": [\"no-such-category\"]}\nnot json\n"), Ct);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var problem = await bad.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Contains("line 2: unknown category \"no-such-category\"", problem.GetProperty("detail").GetString());
        Assert.Contains("line 3: not valid JSON", problem.GetProperty("detail").GetString());
        var tooMany = await admin.PostAsync($"/api/ml/datasets/import?format=jsonl&name={name}-big", new StringContent(Jsonl("big", 41, _ => "[]")), Ct);
        Assert.Equal(HttpStatusCode.BadRequest, tooMany.StatusCode);
        Assert.Contains("Ml:Datasets:MaxImportRows", await tooMany.Content.ReadAsStringAsync(Ct));
        Assert.Equal(HttpStatusCode.BadRequest, (await admin.PostAsync("/api/ml/datasets/import?format=xml", new StringContent("<x/>"), Ct)).StatusCode);
        Assert.Empty(await ExamplesAsync($"import:{name}-bad"));
        Assert.Empty(await ExamplesAsync($"import:{name}-big"));
        var (member, _, _) = await Accounts.WithApiKeyAsync(app, Roles.Member);
        Assert.Equal(HttpStatusCode.Forbidden, (await member.PostAsync("/api/ml/datasets/import?format=jsonl", new StringContent(body), Ct)).StatusCode);
    }

    [Fact]
    public async Task Snapshots_are_immutable_content_hashed_blobs_whose_split_never_moves_an_example()
    {
        var (admin, _, _) = await Accounts.WithApiKeyAsync(app, Roles.Admin);
        var name = "s" + Guid.NewGuid().ToString("N")[..8];
        // Languages of this test's own (strata are shared with every example in them: other tests' would shift the shares).
        var (one, two) = ("x-" + name[1..5], "y-" + name[1..5]);
        await admin.PostAsync($"/api/ml/datasets/import?format=jsonl&name={name}a", new StringContent(Jsonl(name + "a", 40, i => i % 2 == 0 ? "[\"hate\"]" : "[]", one, two)), Ct);

        var first = await admin.PostAsync("/api/ml/datasets/snapshots", null, Ct);
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        var s1 = await first.Content.ReadFromJsonAsync<JsonElement>(Ct);
        var unchanged = await admin.PostAsync("/api/ml/datasets/snapshots", null, Ct);
        Assert.Equal(HttpStatusCode.OK, unchanged.StatusCode);
        Assert.Equal(s1.GetProperty("id").GetGuid(), (await unchanged.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetGuid());

        await admin.PostAsync($"/api/ml/datasets/import?format=jsonl&name={name}b", new StringContent(Jsonl(name + "b", 40, i => i % 2 == 0 ? "[\"hate\"]" : "[]", one, two)), Ct);
        var s2 = await (await admin.PostAsync("/api/ml/datasets/snapshots", null, Ct)).Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal(s1.GetProperty("number").GetInt32() + 1, s2.GetProperty("number").GetInt32());

        var snapshots = app.Services.GetRequiredService<Snapshots>();
        var rows1 = await snapshots.RowsAsync((await snapshots.FindAsync(s1.GetProperty("id").GetString()!, Ct))!, Ct);
        var found2 = (await snapshots.FindAsync("s" + s2.GetProperty("number").GetInt32(), Ct))!;
        var rows2 = await snapshots.RowsAsync(found2, Ct);
        Assert.Equal(found2.BlobHash, s2.GetProperty("dataHash").GetString());
        Assert.Equal(BirbalAI.Platform.Blobs.BlobHash.Of(await app.Services.GetRequiredService<BirbalAI.Platform.Blobs.IBlobStore>().GetAsync(found2.BlobHash, Ct)), found2.BlobHash);
        var splitIn2 = rows2.ToDictionary(r => r.Id, r => r.Split);
        Assert.All(rows1, r => Assert.Equal(r.Split, splitIn2[r.Id]));   // nothing moved, test to train or otherwise
        // 80 examples of this test in 4 strata of 20 (its two languages × hate/none): 2 test and 2 validation each.
        var mine = rows2.Where(r => r.Text.StartsWith(name, StringComparison.Ordinal)).ToList();
        Assert.Equal(80, mine.Count);
        foreach (var stratum in mine.GroupBy(r => (r.Language, r.Labels.Count)))
        {
            Assert.Equal(2, stratum.Count(r => r.Split == DatasetSplit.Test));
            Assert.Equal(2, stratum.Count(r => r.Split == DatasetSplit.Validation));
        }
    }

    [Fact]
    public async Task A_deleted_chat_message_leaves_later_snapshots_and_its_text_is_erased()
    {
        var (admin, _, _) = await Accounts.WithApiKeyAsync(app, Roles.Admin);
        await admin.PostAsync("/api/ml/datasets/import?format=jsonl&name=stays", new StringContent(Jsonl("stays", 2, _ => "[]")), Ct);   // a snapshot needs one example
        var (author, _, authorId, _) = await Accounts.PersonAsync(app, Roles.Member);
        var room = (await (await author.PostAsJsonAsync("/api/chat/rooms", new { name = "datasets", isPrivate = false }, Ct)).Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetGuid();
        var sent = await author.PostAsJsonAsync($"/api/chat/rooms/{room}/messages", new { text = StarterModels.Clean }, Ct);
        var message = (await sent.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetGuid();
        await PublishAsync(Label(ContentSources.ChatMessage, message, StarterModels.Clean + " (labelled)", [], DateTimeOffset.UtcNow));
        await Eventually.TrueAsync(async () => (await ExamplesAsync(ContentSources.ChatMessage, message.ToString())).Count == 1, "the label is an example", Patience);
        var snapshots = app.Services.GetRequiredService<Snapshots>();
        var before = await snapshots.RowsAsync((await snapshots.TakeAsync(null, Ct)).Snapshot, Ct);
        Assert.Contains(before, r => r.Text == StarterModels.Clean + " (labelled)");

        Assert.Equal(HttpStatusCode.OK, (await author.DeleteAsync($"/api/chat/messages/{message}", Ct)).StatusCode);

        await Eventually.TrueAsync(async () => (await ExamplesAsync(ContentSources.ChatMessage, message.ToString())).Single().Removed, "the removal reaches Ml", Patience);
        Assert.Null((await ExamplesAsync(ContentSources.ChatMessage, message.ToString())).Single().Text);
        var after = await snapshots.RowsAsync((await snapshots.TakeAsync(null, Ct)).Snapshot, Ct);
        Assert.DoesNotContain(after, r => r.Text.Contains("(labelled)", StringComparison.Ordinal));
        // A label arriving after the removal does not bring the text back.
        await PublishAsync(Label(ContentSources.ChatMessage, message, "late label", ["hate"], DateTimeOffset.UtcNow));
        await PublishAsync(Label("test.marker", authorId, "marker after the late label", [], DateTimeOffset.UtcNow));
        await Eventually.TrueAsync(async () => (await ExamplesAsync("test.marker")).Count == 1, "the events after it were handled", Patience);
        Assert.Null((await ExamplesAsync(ContentSources.ChatMessage, message.ToString())).Single().Text);
    }

    [Fact]
    public async Task Retention_deletes_old_examples_except_those_a_registered_version_was_trained_on()
    {
        var (admin, _, _) = await Accounts.WithApiKeyAsync(app, Roles.Admin);
        var name = "r" + Guid.NewGuid().ToString("N")[..8];
        await admin.PostAsync($"/api/ml/datasets/import?format=jsonl&name={name}kept", new StringContent(Jsonl(name + "kept", 3, _ => "[]")), Ct);
        var snapshots = app.Services.GetRequiredService<Snapshots>();
        var trainedOn = (await snapshots.TakeAsync(null, Ct)).Snapshot;
        await admin.PostAsync($"/api/ml/datasets/import?format=jsonl&name={name}old", new StringContent(Jsonl(name + "old", 3, _ => "[]")), Ct);
        await admin.PostAsync($"/api/ml/datasets/import?format=jsonl&name={name}new", new StringContent(Jsonl(name + "new", 3, _ => "[]")), Ct);
        await snapshots.TakeAsync(null, Ct);   // the old ones are in this snapshot, which no version was trained on
        await using (var connection = await Db.OpenConnectionAsync(Ct))
        {
            await connection.ExecuteAsync("update ml.examples set labelled_at = now() - interval '31 days' where source in (@Kept, @Old)",
                new { Kept = $"import:{name}kept", Old = $"import:{name}old" });
            await connection.ExecuteAsync("update ml.model_versions set snapshot_id = @Id where number = 1", new { trainedOn.Id });
        }

        Assert.True(await snapshots.ApplyRetentionAsync(Ct) >= 3);

        Assert.Equal(3, (await ExamplesAsync($"import:{name}kept")).Count);
        Assert.Empty(await ExamplesAsync($"import:{name}old"));
        Assert.Equal(3, (await ExamplesAsync($"import:{name}new")).Count);
    }

    [Fact]
    public async Task The_dataset_page_counts_per_category_and_language_and_the_import_verb_adds_a_file()
    {
        var name = "cli" + Guid.NewGuid().ToString("N")[..6];
        var file = Path.Combine(Path.GetTempPath(), $"{name}.csv");
        await File.WriteAllTextAsync(file, $"text,sexual,language\n{name} one,1,pt\n{name} two,0,pt\n{name} three,1,pt\n", Ct);
        try
        {
            await using var cli = Hosting.AppProcess.Start(Hosting.AppProcess.Settings(app.Database, app.Prefix), "ml", "import", "--file", file, "--name", name);
            Assert.True(await cli.ExitCodeAsync(TimeSpan.FromSeconds(120)) == 0, cli.Errors);
            Assert.Contains($"ml import: 3 rows from {file} as import:{name}: 3 new, 0 updated", cli.Output);
        }
        finally { File.Delete(file); }

        var annotator = await Accounts.SignedInAsync(app, Roles.Annotator);
        var page = await annotator.GetDocumentAsync("/admin/ml/datasets");

        var sexual = page.QuerySelector("#counts tr[data-category='sexual']")!;
        Assert.Equal("2", sexual.QuerySelector("td[data-language='pt']")!.TextContent);
        Assert.Contains(page.QuerySelectorAll("#recent td.text"), td => td.TextContent == $"{name} three");
        Assert.NotNull(page.QuerySelector("svg#growth rect"));
        Assert.Null(page.QuerySelector("#take-snapshot"));   // Admins only
    }

    [Fact]
    public async Task A_snapshot_over_its_example_limit_is_refused_naming_the_setting()
    {
        var (admin, _, _) = await Accounts.WithApiKeyAsync(app, Roles.Admin);
        await admin.PostAsync("/api/ml/datasets/import?format=jsonl&name=limit", new StringContent(Jsonl("limit", 3, _ => "[]")), Ct);
        var limited = new Snapshots(Db, app.Services.GetRequiredService<BirbalAI.Platform.Blobs.IBlobStore>(),
            Microsoft.Extensions.Options.Options.Create(new DatasetOptions { MaxSnapshotExamples = 2 }));

        var refused = await Assert.ThrowsAsync<SnapshotException>(() => limited.TakeAsync(null, Ct));

        Assert.Contains("Ml:Datasets:MaxSnapshotExamples", refused.Message);
    }
}
