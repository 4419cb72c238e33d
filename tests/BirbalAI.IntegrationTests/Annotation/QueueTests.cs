using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using BirbalAI.Contracts.Identity;
using BirbalAI.Testing;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace BirbalAI.IntegrationTests.Annotation;

/// <summary>The labelling queue: overlap, reservations and their expiry, order, undo, skip and the daily limit of revealed severe items.</summary>
public sealed class QueueTests(QueueTests.Fixture fixture) : IClassFixture<QueueTests.Fixture>
{
    /// <summary>One app for the class: each test works in its own project with its own annotators.</summary>
    public sealed class Fixture : IAsyncLifetime
    {
        public App App { get; } = new();

        public async ValueTask InitializeAsync()
        {
            await App.InitializeAsync();
            App.With("Annotation:DailySevereReveals", "1").With("Annotation:PublishIntervalMs", "50")
                .With("Annotation:MaxNoteLength", "20").With("Annotation:MaxSkipReasonLength", "10").With("Annotation:ProgressCountLimit", "100");
        }

        public ValueTask DisposeAsync() => App.DisposeAsync();
    }

    readonly App app = fixture.App;

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    sealed record Person(HttpClient Client, Guid Id);

    async Task<Person> AnnotatorAsync(Guid project, string role = Roles.Annotator)
    {
        var (client, _, id, _) = await Accounts.PersonAsync(app, role);
        if (role != Roles.Admin) await ExecuteAsync("insert into annotation.project_members (project_id, user_id) values (@project, @id)", new { project, id });
        return new Person(client, id);
    }

    async Task<Guid> ProjectAsync(int overlap)
    {
        var (admin, _, _) = await Accounts.WithApiKeyAsync(app, Roles.Admin);
        var created = await admin.PostAsJsonAsync("/api/annotation/projects", new { name = $"sample {Guid.NewGuid():N}", overlap }, Ct);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        return (await created.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetGuid();
    }

    async Task<Guid> TaskAsync(Guid project, string text, float severity, bool severe = false)
    {
        var id = Guid.CreateVersion7();
        await ExecuteAsync("""
            insert into annotation.tasks (id, project_id, source, kind, text, language, severity, severe) values (@id, @project, 'import', 'item', @text, 'en', @severity, @severe)
            """, new { id, project, text, severity, severe });
        return id;
    }

    async Task ExecuteAsync(string sql, object? args = null)
    {
        await using var connection = await app.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync(Ct);
        await connection.ExecuteAsync(sql, args);
    }

    static async Task<JsonElement> NextAsync(Person who, Guid project, params Guid[] exclude) =>
        await who.Client.GetFromJsonAsync<JsonElement>($"/api/annotation/projects/{project}/next{(exclude.Length == 0 ? "" : "?" + string.Join("&", exclude.Select(e => $"exclude={e}")))}", Ct);

    static Guid? TaskId(JsonElement next) => next.GetProperty("task") is { ValueKind: JsonValueKind.Object } t ? t.GetProperty("id").GetGuid() : null;

    static Task<HttpResponseMessage> SubmitAsync(Person who, Guid task, params string[] categories) =>
        who.Client.PostAsJsonAsync($"/api/annotation/tasks/{task}/annotations", new { categories }, Ct);

    [Fact]
    public async Task With_overlap_2_a_task_goes_to_two_people_most_severe_first_and_the_third_gets_the_next_one()
    {
        var project = await ProjectAsync(overlap: 2);
        var older = await TaskAsync(project, "older, milder", 0.4f);
        var severe = await TaskAsync(project, "newer, more severe", 0.9f);
        Person a = await AnnotatorAsync(project), b = await AnnotatorAsync(project), c = await AnnotatorAsync(project);

        var first = await NextAsync(a, project);
        Assert.Equal(severe, TaskId(first));
        Assert.Equal(severe, TaskId(await NextAsync(a, project)));   // a reload serves the same reservation
        Assert.Equal(older, TaskId(await NextAsync(a, project, severe)));   // prefetching the one after
        Assert.Equal(severe, TaskId(await NextAsync(b, project)));
        Assert.Equal(older, TaskId(await NextAsync(c, project)));
        Assert.False(first.GetProperty("task").TryGetProperty("annotations", out _));   // nobody sees others' labels
        Assert.Equal(2, first.GetProperty("progress").GetProperty("open").GetInt64());
    }

    [Fact]
    public async Task An_expired_reservation_goes_to_someone_else_and_its_late_label_is_refused()
    {
        var project = await ProjectAsync(overlap: 1);
        var task = await TaskAsync(project, "one line", 0.5f);
        Person a = await AnnotatorAsync(project), b = await AnnotatorAsync(project);
        Assert.Equal(task, TaskId(await NextAsync(a, project)));
        Assert.Null(TaskId(await NextAsync(b, project)));   // reserved for a

        await ExecuteAsync("update annotation.assignments set expires_at = now() - interval '1 second' where user_id = @Id", new { a.Id });

        Assert.Equal(task, TaskId(await NextAsync(b, project)));
        Assert.Equal(HttpStatusCode.OK, (await SubmitAsync(b, task, "hate")).StatusCode);
        var late = await SubmitAsync(a, task, "violence");
        Assert.Equal(HttpStatusCode.Conflict, late.StatusCode);
        Assert.Contains("expired", await late.Content.ReadAsStringAsync(Ct));
    }

    [Fact]
    public async Task A_label_can_be_undone_before_it_is_published_and_not_after()
    {
        var project = await ProjectAsync(overlap: 1);
        var task = await TaskAsync(project, "one line", 0.5f);
        var a = await AnnotatorAsync(project);
        Assert.Equal(task, TaskId(await NextAsync(a, project)));
        Assert.Equal(HttpStatusCode.BadRequest, (await SubmitAsync(a, task, "no-such-category")).StatusCode);

        var first = await (await SubmitAsync(a, task, "hate")).Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal(HttpStatusCode.OK, (await a.Client.DeleteAsync($"/api/annotation/annotations/{first.GetProperty("annotationId").GetGuid()}", Ct)).StatusCode);
        Assert.Equal(task, TaskId(await NextAsync(a, project)));   // back with its annotator

        var second = await (await SubmitAsync(a, task, "harassment")).Content.ReadFromJsonAsync<JsonElement>(Ct);
        var id = second.GetProperty("annotationId").GetGuid();
        await ExecuteAsync("update annotation.annotations set publish_at = now() where id = @id", new { id });   // the window (10 s) has passed
        await Eventually.TrueAsync(async () =>
        {
            await using var connection = await app.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync(Ct);
            return await connection.ExecuteScalarAsync<string>("select status from annotation.tasks where id = @task", new { task }) == "review";
        }, "the published label sends the task to review");
        Assert.Equal(HttpStatusCode.Conflict, (await a.Client.DeleteAsync($"/api/annotation/annotations/{id}", Ct)).StatusCode);
    }

    [Fact]
    public async Task Past_the_daily_reveal_limit_the_queue_serves_other_work_and_says_why()
    {
        var project = await ProjectAsync(overlap: 1);
        var severe1 = await TaskAsync(project, "severe one", 1.9f, severe: true);
        var severe2 = await TaskAsync(project, "severe two", 1.8f, severe: true);
        var mild = await TaskAsync(project, "mild", 0.3f);
        var a = await AnnotatorAsync(project);

        Assert.Equal(severe1, TaskId(await NextAsync(a, project)));
        Assert.Equal(HttpStatusCode.OK, (await a.Client.PostAsync($"/api/annotation/tasks/{severe1}/reveal", null, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await a.Client.PostAsJsonAsync($"/api/annotation/tasks/{severe1}/skip", new { reason = "" }, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await a.Client.PostAsJsonAsync($"/api/annotation/tasks/{severe1}/skip", new { reason = "not sure" }, Ct)).StatusCode);

        var next = await NextAsync(a, project);
        Assert.Equal(mild, TaskId(next));
        Assert.Contains("daily limit", next.GetProperty("notice").GetString());
        var refused = await a.Client.PostAsync($"/api/annotation/tasks/{severe2}/reveal", null, Ct);
        Assert.Equal((HttpStatusCode)429, refused.StatusCode);
        Assert.Contains("Annotation:DailySevereReveals", await refused.Content.ReadAsStringAsync(Ct));
    }

    [Fact]
    public async Task A_note_or_a_skip_reason_over_its_limit_is_refused_naming_the_setting_and_nothing_is_saved()
    {
        var project = await ProjectAsync(overlap: 1);
        var task = await TaskAsync(project, "one line", 0.5f);
        var a = await AnnotatorAsync(project);
        Assert.Equal(task, TaskId(await NextAsync(a, project)));

        var note = await a.Client.PostAsJsonAsync($"/api/annotation/tasks/{task}/annotations", new { categories = new[] { "hate" }, note = new string('n', 21) }, Ct);
        var skip = await a.Client.PostAsJsonAsync($"/api/annotation/tasks/{task}/skip", new { reason = new string('r', 11) }, Ct);

        Assert.Equal(HttpStatusCode.BadRequest, note.StatusCode);
        Assert.Contains("Annotation:MaxNoteLength", await note.Content.ReadAsStringAsync(Ct));
        Assert.Equal(HttpStatusCode.BadRequest, skip.StatusCode);
        Assert.Contains("Annotation:MaxSkipReasonLength", await skip.Content.ReadAsStringAsync(Ct));
        Assert.Equal(task, TaskId(await NextAsync(a, project)));   // still reserved for a, unlabelled
        Assert.Equal(HttpStatusCode.OK, (await a.Client.PostAsJsonAsync($"/api/annotation/tasks/{task}/annotations", new { categories = new[] { "hate" }, note = "short" }, Ct)).StatusCode);

        // The progress shown with every task counts open tasks up to Annotation:ProgressCountLimit, then says "at least".
        await ExecuteAsync("""
            insert into annotation.tasks (id, project_id, source, kind, text, language) select gen_random_uuid(), @project, 'import', 'item', 'line ' || g, 'en' from generate_series(1, 150) g
            """, new { project });
        var progress = (await NextAsync(a, project)).GetProperty("progress");
        Assert.Equal(100, progress.GetProperty("open").GetInt64());
        Assert.True(progress.GetProperty("openAtLeast").GetBoolean());
    }
}
