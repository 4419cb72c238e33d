using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using BirbalAI.Contracts.Identity;
using BirbalAI.Ml.Rescoring;
using BirbalAI.Testing;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace BirbalAI.IntegrationTests.Ml;

/// <summary>
/// Draft policies and impact previews on the real servers: a draft is saved without coming into force, changed, published as the
/// next version (audited) once; an impact preview of a draft replays only its window's content, counts what would change per
/// direction and category on a hand-made case, stops at its cap, and can never be applied.
/// </summary>
public sealed class ImpactPreviewTests(ImpactPreviewTests.Fixture fixture) : IClassFixture<ImpactPreviewTests.Fixture>
{
    public sealed class Fixture : IAsyncLifetime
    {
        public App App { get; } = new();

        public async ValueTask InitializeAsync()
        {
            await App.InitializeAsync();
            App.WithStarterModel().With("Ml:Rescoring:PreviewMaxItems", "3").With("Ml:Rescoring:PauseMs", "0").With("Chat:SendLimit", "1000");
        }

        public ValueTask DisposeAsync() => App.DisposeAsync();
    }

    readonly App app = fixture.App;

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    static Dictionary<string, object> Thresholds(Func<string, (float Review, float Reject)> of) =>
        BirbalAI.Ml.Categories.Default.ToDictionary(c => c, c => (object)new { review = of(c).Review, reject = of(c).Reject });

    async Task<T> ScalarAsync<T>(string sql, object? args = null)
    {
        await using var connection = await app.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync(Ct);
        return await connection.ExecuteScalarAsync<T>(sql, args) ?? default!;
    }

    async Task<int> VersionInForceAsync(HttpClient admin) =>
        (await admin.GetFromJsonAsync<JsonElement>("/api/ml/policy", Ct)).GetProperty("version").GetInt32();

    [Fact]
    public async Task A_draft_is_not_in_force_until_it_is_published_once_as_the_next_version()
    {
        var (admin, _, _) = await Accounts.WithApiKeyAsync(app, Roles.Admin);
        var before = await VersionInForceAsync(admin);

        var invalid = await admin.PostAsJsonAsync("/api/ml/policy/drafts", new { name = "", thresholds = new Dictionary<string, object> { ["hate"] = new { review = 0.9, reject = 0.2 } } }, Ct);
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        var errors = (await invalid.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("errors").GetProperty("draft").EnumerateArray().Select(e => e.GetString()).ToList();
        Assert.Contains("name: required", errors);
        Assert.Contains(errors, e => e!.StartsWith("hate: need 0 ≤ review ≤ reject ≤ 1", StringComparison.Ordinal));
        Assert.Contains("harassment: missing", errors);

        var created = await admin.PostAsJsonAsync("/api/ml/policy/drafts", new { name = "stricter on hate", thresholds = Thresholds(c => c == "hate" ? (0.2f, 0.9f) : (0.5f, 1f)) }, Ct);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var draft = await created.Content.ReadFromJsonAsync<JsonElement>(Ct);
        var id = draft.GetProperty("id").GetGuid();
        Assert.Equal(before, draft.GetProperty("basedOn").GetInt32());
        Assert.Equal(before, await VersionInForceAsync(admin));   // saved, not in force

        var changed = await admin.PutAsJsonAsync($"/api/ml/policy/drafts/{id}", new { name = "stricter on hate", thresholds = Thresholds(c => c == "hate" ? (0.3f, 0.9f) : (0.5f, 1f)), note = "after the raid" }, Ct);
        Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await admin.PostAsJsonAsync($"/api/ml/policy/drafts/{id}/publish", new { expectedVersion = before - 1 }, Ct)).StatusCode);
        Assert.Equal(before, await VersionInForceAsync(admin));

        var published = await admin.PostAsJsonAsync($"/api/ml/policy/drafts/{id}/publish", new { expectedVersion = before }, Ct);
        Assert.Equal(HttpStatusCode.OK, published.StatusCode);
        Assert.Equal(before + 1, (await published.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("publishedAs").GetInt32());
        var policy = await admin.GetFromJsonAsync<JsonElement>("/api/ml/policy", Ct);
        Assert.Equal(before + 1, policy.GetProperty("version").GetInt32());
        Assert.Equal(0.3, policy.GetProperty("thresholds").GetProperty("hate").GetProperty("review").GetDouble(), 3);
        Assert.Equal("published from draft \"stricter on hate\": after the raid", policy.GetProperty("note").GetString());
        Assert.Equal(1, await ScalarAsync<long>("select count(*) from identity.audit_log where kind = 'ml.policy-changed' and subject = @Subject",
            new { Subject = $"policy v{before + 1}" }));

        // Once: a published draft neither changes, nor publishes again, nor goes away.
        Assert.Equal(HttpStatusCode.Conflict, (await admin.PostAsJsonAsync($"/api/ml/policy/drafts/{id}/publish", new { }, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await admin.PutAsJsonAsync($"/api/ml/policy/drafts/{id}", new { name = "again", thresholds = Thresholds(_ => (0.5f, 1f)) }, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await admin.DeleteAsync($"/api/ml/policy/drafts/{id}", Ct)).StatusCode);
        Assert.Equal(before + 1, await VersionInForceAsync(admin));

        var other = (await (await admin.PostAsJsonAsync("/api/ml/policy/drafts", new { name = "thrown away", thresholds = Thresholds(_ => (0.5f, 1f)) }, Ct))
            .Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetGuid();
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/ml/policy/drafts/{other}", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync($"/api/ml/policy/drafts/{other}", Ct)).StatusCode);
    }

    [Fact]
    public async Task An_impact_preview_of_a_draft_counts_what_its_window_would_change_stops_at_its_cap_and_is_never_applied()
    {
        // The hand-made case. In force: every category approves whatever the model says, so the stored messages are all approved.
        // The draft holds everything for harassment (review from 0), so under it every message in the window goes approve → review,
        // and by category only harassment moves.
        var (admin, _, _) = await Accounts.WithApiKeyAsync(app, Roles.Admin);
        (await admin.PutAsJsonAsync("/api/ml/policy", new { thresholds = Thresholds(_ => (1f, 1f)) }, Ct)).EnsureSuccessStatusCode();
        var (ann, _, _, _) = await Accounts.PersonAsync(app, Roles.Member);
        var room = (await (await ann.PostAsJsonAsync("/api/chat/rooms", new { name = "previews", isPrivate = false }, Ct)).Content.ReadFromJsonAsync<JsonElement>(Ct))
            .GetProperty("id").GetGuid();
        var ids = new List<Guid>();
        foreach (var text in new[] { "an old note about the garden", "see you at the market", "the bus was late again", "hello everyone" })
        {
            var sent = await ann.PostAsJsonAsync($"/api/chat/rooms/{room}/messages", new { text }, Ct);
            Assert.Equal(HttpStatusCode.Created, sent.StatusCode);
            ids.Add((await sent.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetGuid());
        }
        // This class's content only: the messages of the other test (none) and of this room.
        Assert.Equal(4, await ScalarAsync<long>("select count(*) from chat.messages where room_id = @room and status = 'approved'", new { room }));
        Assert.Equal(4, await ScalarAsync<long>("select count(*) from chat.messages where status in ('approved', 'held', 'rejected')"));
        await ScalarAsync<int>("update chat.messages set posted_at = now() - interval '10 days' where id = @Id returning 1", new { Id = ids[0] });   // outside a 7-day window

        // The Admin saves the draft from the Policy page: it is not in force.
        var browser = await Accounts.SignedInAsync(app, Roles.Admin);
        var policyPage = await browser.GetDocumentAsync("/admin/ml/policy");
        var inForce = await VersionInForceAsync(admin);
        var rows = policyPage.QuerySelectorAll("#policy tbody tr").Select((r, i) => (Category: r.GetAttribute("data-category")!, Index: i)).ToList();
        var values = rows.ToDictionary(r => $"Rows[{r.Index}].Review", r => r.Category == "harassment" ? "0" : "1");
        values["DraftName"] = "hold all harassment";
        var saved = await browser.SubmitAsync(policyPage, "#policy", values, submitter: "#save-draft");
        Assert.Equal(HttpStatusCode.OK, saved.StatusCode);
        var afterSave = await HtmlForms.ParseAsync(saved);
        Assert.Contains("Saved as draft \"hold all harassment\"", afterSave.QuerySelector("#result")!.TextContent);
        Assert.Equal(inForce, await VersionInForceAsync(admin));

        // Previewed over the last 7 days with the version in production: three messages, each approve → review, harassment only.
        var page = await browser.GetDocumentAsync("/admin/ml/policy");
        var started = await browser.SubmitAsync(page, "#preview-form", new Dictionary<string, string> { ["PreviewDays"] = "7" },
            submitter: "tr[data-draft='hold all harassment'] button.preview");
        Assert.Equal(HttpStatusCode.Redirect, started.StatusCode);
        var runs = app.Services.GetRequiredService<RescoringRuns>();
        var run = await EndedAsync(runs, started.Headers.Location!.ToString());
        Assert.True(run.Status == RescoringRuns.Succeeded, run.Error);
        Assert.True(run.Preview);
        Assert.Equal((3L, 3L), (run.Total, run.Scored));
        var summary = await runs.SummaryAsync(run.Id, Ct);
        Assert.Equal([("chat.message", "approve", "review", 3L)], summary.Directions.Select(d => (d.Source, d.From, d.To, d.Count)));
        Assert.Equal([("harassment", "approve", "review", 3L)], summary.Categories.Select(c => (c.Category, c.From, c.To, c.Count)));
        Assert.Equal(ids.Skip(1).Order(), summary.Examples.Select(e => e.ContentId).Order());   // the old message is outside the window
        var runPage = await browser.GetDocumentAsync(started.Headers.Location!.ToString());
        Assert.Equal("Impact preview #" + run.Number, runPage.QuerySelector("h1")!.TextContent);
        Assert.Contains("under draft \"hold all harassment\"", runPage.QuerySelector("#preview")!.TextContent);
        Assert.Null(runPage.QuerySelector("#apply"));
        Assert.Null(runPage.QuerySelector("#capped"));
        Assert.Equal("3", runPage.QuerySelector("#would-hold")!.TextContent);

        // Never applied: the API refuses, nothing is published, every message is as it was, the policy in force unchanged.
        var apply = await admin.PostAsync($"/api/ml/rescoring-runs/{run.Id}/apply", null, Ct);
        Assert.Equal(HttpStatusCode.Conflict, apply.StatusCode);
        Assert.Contains("impact preview", (await apply.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("detail").GetString());
        Assert.Equal(0, await ScalarAsync<long>("select count(*) from platform.outbox where wire_name = 'ml.verdicts-revised.v1'"));
        Assert.Equal(4, await ScalarAsync<long>("select count(*) from chat.messages where room_id = @room and status = 'approved'", new { room }));
        Assert.Equal(inForce, await VersionInForceAsync(admin));

        // Over 30 days all four are in the window: it stops at its cap (Ml:Rescoring:PreviewMaxItems = 3 here) and says so.
        var draftId = run.DraftId!.Value;
        var wide = await admin.PostAsJsonAsync("/api/ml/rescoring-runs", new { version = $"v{run.VersionNumber}", preview = true, draft = draftId, days = 30 }, Ct);
        Assert.Equal(HttpStatusCode.Created, wide.StatusCode);
        var wideRun = await EndedAsync(runs, $"/admin/ml/rescoring/{(await wide.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("number").GetInt32()}");
        Assert.Equal((3L, 3L), (wideRun.Total, wideRun.Scored));
        Assert.NotNull((await browser.GetDocumentAsync($"/admin/ml/rescoring/{wideRun.Number}")).QuerySelector("#capped"));

        // Bad terms are refused with a reason.
        async Task<string> RefusedAsync(object body)
        {
            var response = await admin.PostAsJsonAsync("/api/ml/rescoring-runs", body, Ct);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            return (await response.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("detail").GetString()!;
        }
        Assert.Contains("days: from 1 to 90", await RefusedAsync(new { version = $"v{run.VersionNumber}", preview = true, days = 91 }));
        Assert.Contains("for an impact preview", await RefusedAsync(new { version = $"v{run.VersionNumber}", draft = draftId }));
        Assert.Contains("no draft policy", await RefusedAsync(new { version = $"v{run.VersionNumber}", preview = true, draft = Guid.NewGuid() }));
    }

    [Fact]
    public async Task The_rescore_verb_queues_a_preview_that_the_workers_run_and_prints_what_would_change()
    {
        var settings = BirbalAI.IntegrationTests.Hosting.AppProcess.Settings(app.Database, app.Prefix);
        var runs = app.Services.GetRequiredService<RescoringRuns>();
        _ = app.Services;   // the app (and its Hangfire workers) runs: the verb only queues

        await using (var refused = BirbalAI.IntegrationTests.Hosting.AppProcess.Start(settings, "ml", "rescore", "--version", "v1", "--days", "7"))
        {
            Assert.Equal(2, await refused.ExitCodeAsync(Patience));
            Assert.Contains("--draft and --days are for an impact preview: add --preview", refused.Errors);
        }

        await using var cli = BirbalAI.IntegrationTests.Hosting.AppProcess.Start(settings, "ml", "rescore", "--version", "v1", "--preview", "--days", "30", "--wait");
        Assert.True(await cli.ExitCodeAsync(Patience) == 0, cli.Errors + cli.Output);
        var lines = cli.Output.Trim().Split('\n');
        var number = int.Parse(System.Text.RegularExpressions.Regex.Match(lines[0], "^ml rescore: impact preview #([0-9]+) ").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        var run = (await runs.FindAsync(number, Ct))!;
        Assert.True(run.Preview);
        Assert.Equal(RescoringRuns.Succeeded, run.Status);
        var summary = await runs.SummaryAsync(run.Id, Ct);
        Assert.Equal($"ml rescore: {summary.Changed} changed, {summary.Unchanged} unchanged, {summary.WouldHold} approved would be held", lines[^1]);
        Assert.Equal(summary.Directions.Count(d => d.From != d.To), lines.Count(l => l.StartsWith("chat.message\t", StringComparison.Ordinal) || l.StartsWith("documents.chunk\t", StringComparison.Ordinal)));

        await using var apply = BirbalAI.IntegrationTests.Hosting.AppProcess.Start(settings, "ml", "rescore-apply", number.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(2, await apply.ExitCodeAsync(Patience));
        Assert.Contains("is an impact preview", apply.Errors);
    }

    async Task<RescoringRun> EndedAsync(RescoringRuns runs, string runUrl)
    {
        var number = int.Parse(runUrl.Split('/').Last(), System.Globalization.CultureInfo.InvariantCulture);
        await Eventually.TrueAsync(async () => (await runs.FindAsync(number, Ct))!.Status is not (RescoringRuns.Queued or RescoringRuns.Running), "the preview ends", Patience);
        return (await runs.FindAsync(number, Ct))!;
    }
}
