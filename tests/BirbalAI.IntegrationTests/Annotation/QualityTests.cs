using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using BirbalAI.Contracts.Identity;
using BirbalAI.Testing;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace BirbalAI.IntegrationTests.Annotation;

/// <summary>Agreement, disagreements, review (accept, correct, bulk accept), golden tasks and the project page, on the real servers.</summary>
public sealed class QualityTests : IAsyncLifetime
{
    readonly App app = new();

    public async ValueTask InitializeAsync()
    {
        await app.InitializeAsync();
        app.With("Annotation:UndoSeconds", "0").With("Annotation:PublishIntervalMs", "50");
    }

    public ValueTask DisposeAsync() => app.DisposeAsync();

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    async Task<T> ScalarAsync<T>(string sql, object? args = null)
    {
        await using var connection = await app.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync(Ct);
        return (await connection.ExecuteScalarAsync<T>(sql, args))!;
    }

    async Task<Guid> TaskAsync(Guid project, string text, float severity)
    {
        var id = Guid.CreateVersion7();
        await ScalarAsync<int>("insert into annotation.tasks (id, project_id, source, kind, text, language, severity) values (@id, @project, 'import', 'item', @text, 'en', @severity)",
            new { id, project, text, severity });
        return id;
    }

    /// <summary>Takes the next task and labels it; returns its id.</summary>
    static async Task<Guid> LabelNextAsync(HttpClient who, Guid project, params string[] categories)
    {
        var next = await who.GetFromJsonAsync<JsonElement>($"/api/annotation/projects/{project}/next", Ct);
        var task = next.GetProperty("task").GetProperty("id").GetGuid();
        var submitted = await who.PostAsJsonAsync($"/api/annotation/tasks/{task}/annotations", new { categories }, Ct);
        Assert.True(submitted.IsSuccessStatusCode, await submitted.Content.ReadAsStringAsync(Ct));
        return task;
    }

    [Fact]
    public async Task Two_annotators_agreement_disagreements_review_and_golden_accuracy()
    {
        var (admin, _, _) = await Accounts.WithApiKeyAsync(app, Roles.Admin);
        var created = await admin.PostAsJsonAsync("/api/annotation/projects", new { name = "quality", overlap = 2 }, Ct);
        var project = (await created.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetGuid();
        var (a, _, aId, _) = await Accounts.PersonAsync(app, Roles.Annotator);
        var (b, _, bId, _) = await Accounts.PersonAsync(app, Roles.Annotator);
        foreach (var id in new[] { aId, bId })
            await admin.PostAsJsonAsync($"/api/annotation/projects/{project}/members", new { userId = id }, Ct);
        Guid t1 = await TaskAsync(project, "first", 0.9f), t2 = await TaskAsync(project, "second", 0.8f), t3 = await TaskAsync(project, "third", 0.7f);

        // a: hate, hate, violence · b: hate, none, violence — in the queue's order (severity)
        Assert.Equal(t1, await LabelNextAsync(a, project, "hate"));
        Assert.Equal(t2, await LabelNextAsync(a, project, "hate"));
        Assert.Equal(t3, await LabelNextAsync(a, project, "violence"));
        Assert.Equal(t1, await LabelNextAsync(b, project, "hate"));
        Assert.Equal(t2, await LabelNextAsync(b, project));
        Assert.Equal(t3, await LabelNextAsync(b, project, "violence"));
        await Eventually.TrueAsync(async () => await ScalarAsync<long>("select count(*) from annotation.tasks where project_id = @project and status = 'review'", new { project }) == 3,
            "the three tasks wait for review");

        var figures = await admin.GetFromJsonAsync<JsonElement>($"/api/annotation/projects/{project}/figures", Ct);
        var hate = figures.GetProperty("agreement").EnumerateArray().Single(c => c.GetProperty("category").GetString() == "hate");
        // hate per task: [1,1], [1,0], [0,0] → o11 = 2, o00 = 2, o10 = o01 = 1; n1 = n0 = 3, n = 6 → alpha = 1 − 5 · 2 / 18 = 4/9; pairs 2 of 3
        Assert.Equal(4.0 / 9, hate.GetProperty("alpha").GetDouble(), precision: 6);
        Assert.Equal(2.0 / 3, hate.GetProperty("pairwise").GetDouble(), precision: 6);
        Assert.Equal([t2], figures.GetProperty("disagreements").EnumerateArray().Select(d => d.GetProperty("taskId").GetGuid()));

        // A review is someone else's: the annotators who labelled the tasks neither see them waiting nor accept them.
        Assert.Empty((await a.GetFromJsonAsync<JsonElement>($"/api/annotation/projects/{project}/review", Ct)).EnumerateArray());
        Assert.Equal(0, (await (await a.PostAsync($"/api/annotation/projects/{project}/review/accept-unanimous", null, Ct)).Content.ReadFromJsonAsync<JsonElement>(Ct))
            .GetProperty("accepted").GetInt32());
        var own = await b.PostAsJsonAsync($"/api/annotation/tasks/{t2}/review", new { categories = new[] { "hate" } }, Ct);
        Assert.Equal(HttpStatusCode.Forbidden, own.StatusCode);
        Assert.Contains("someone else", await own.Content.ReadAsStringAsync(Ct));
        Assert.Equal(3, (await admin.GetFromJsonAsync<JsonElement>($"/api/annotation/projects/{project}/review", Ct)).GetArrayLength());

        var bulk = await admin.PostAsync($"/api/annotation/projects/{project}/review/accept-unanimous", null, Ct);
        Assert.Equal(2, (await bulk.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("accepted").GetInt32());
        var corrected = await admin.PostAsJsonAsync($"/api/annotation/tasks/{t2}/review", new { categories = new[] { "hate" } }, Ct);
        Assert.True((await corrected.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("corrected").GetBoolean());
        Assert.Equal(HttpStatusCode.Conflict, (await admin.PostAsJsonAsync($"/api/annotation/tasks/{t2}/review", new { }, Ct)).StatusCode);
        Assert.Equal(3, await ScalarAsync<long>("select count(*) from platform.outbox where wire_name = 'annotation.label-accepted.v1'"));
        Assert.Equal(["hate"], await ScalarAsync<string[]>("select final_categories from annotation.tasks where id = @t2", new { t2 }));

        // A golden task, served first at rate 1, unseen as such: a gets it right, b wrong.
        var golden = await TaskAsync(project, "golden", 0.1f);
        Assert.Equal(HttpStatusCode.Forbidden, (await a.PostAsJsonAsync($"/api/annotation/tasks/{golden}/golden", new { categories = new[] { "hate" } }, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await admin.PostAsJsonAsync($"/api/annotation/tasks/{golden}/golden", new { categories = new[] { "hate" } }, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.PutAsJsonAsync($"/api/annotation/projects/{project}", new { goldenRate = 1 }, Ct)).StatusCode);
        var served = await a.GetFromJsonAsync<JsonElement>($"/api/annotation/projects/{project}/next", Ct);
        Assert.False(served.GetProperty("task").TryGetProperty("golden", out _));
        Assert.Equal(golden, await LabelNextAsync(a, project, "hate"));
        Assert.Equal(golden, await LabelNextAsync(b, project, "violence"));
        await Eventually.TrueAsync(async () => await ScalarAsync<long>("select count(*) from annotation.annotations where golden_correct is not null") == 2, "the golden labels are scored");

        var page = await (await Accounts.SignedInAsync(app, Roles.Admin)).GetDocumentAsync($"/annotation/projects/{project}");
        Assert.Equal("0.44", page.QuerySelector("#agreement tr[data-category='hate'] .alpha")!.TextContent);
        var accuracy = page.QuerySelectorAll("#annotators tbody tr").Select(r => r.QuerySelector(".golden")!.TextContent).Order().ToList();
        Assert.Equal(["0% of 1", "100% of 1"], accuracy);
        Assert.NotNull(page.QuerySelector("#settings-form"));
    }
}
