using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using BirbalAI.Annotation.Projects;
using BirbalAI.Contracts.Annotation;
using BirbalAI.Contracts.Identity;
using BirbalAI.Platform.Messaging;
using BirbalAI.Testing;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using RabbitMQ.Client;
using static BirbalAI.IntegrationTests.Annotation.ReviewWorkspaceTests;

namespace BirbalAI.IntegrationTests.Annotation;

/// <summary>
/// Chat and the review workspace on the real servers: a held message becomes a task; a reviewer's decision releases or
/// removes it in Chat (audited as via the review workspace); Chat-first and withdrawn messages close their tasks;
/// decisions apply once under redelivery; messages held before the module existed are backfilled.
/// </summary>
public sealed class ReviewWorkspaceTests(ReviewWorkspaceTests.Fixture fixture) : IClassFixture<ReviewWorkspaceTests.Fixture>
{
    /// <summary>
    /// One app for a class: each test has its own people, rooms and messages, and asserts on its own ids. The moderation
    /// queue is the app's: <see cref="TakeAsync"/> passes over tasks other tests left in it. The tests that need the queue
    /// or the backfill to themselves have a class (and an app) each.
    /// </summary>
    public sealed class Fixture : IAsyncLifetime
    {
        public App App { get; } = new();

        public async ValueTask InitializeAsync()
        {
            await App.InitializeAsync();
            App.WithStarterModel().With("Chat:SendLimit", "1000").With("Annotation:UndoSeconds", "0").With("Annotation:PublishIntervalMs", "50");
            await StarterModels.HoldNeverRejectAsync(App);
        }

        public ValueTask DisposeAsync() => App.DisposeAsync();
    }

    readonly App app = fixture.App;

    internal static CancellationToken Ct => TestContext.Current.CancellationToken;
    internal static readonly Guid Moderation = ProjectAccess.ModerationId;

    public sealed record Person(HttpClient Client, Guid Id, string Email);

    Task<Person> PersonAsync(string role) => PersonAsync(app, role);

    internal static async Task<Person> PersonAsync(App app, string role)
    {
        var (client, _, id, email) = await Accounts.PersonAsync(app, role);
        return new Person(client, id, email);
    }

    internal static async Task<Guid> RoomAsync(Person owner, params Person[] others)
    {
        var created = await owner.Client.PostAsJsonAsync("/api/chat/rooms", new { name = "garden club", isPrivate = true }, Ct);
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetGuid();
        foreach (var other in others)
            Assert.Equal(HttpStatusCode.Accepted, (await owner.Client.PostAsJsonAsync($"/api/chat/rooms/{id}/members", new { email = other.Email }, Ct)).StatusCode);
        return id;
    }

    internal static async Task<Guid> SendAsync(Person who, Guid room, string text, string status)
    {
        var response = await who.Client.PostAsJsonAsync($"/api/chat/rooms/{room}/messages", new { text }, Ct);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal(status, body.GetProperty("status").GetString());
        return body.GetProperty("id").GetGuid();
    }

    internal static async Task<List<Guid>> HistoryAsync(Person who, Guid room) =>
        [.. (await who.Client.GetFromJsonAsync<JsonElement>($"/api/chat/rooms/{room}/messages", Ct)).EnumerateArray().Select(m => m.GetProperty("id").GetGuid())];

    /// <summary>
    /// Waits until the message's task is in the queue, and takes it (reserved for <paramref name="reviewer"/>). A task another
    /// test of the class left open is served first when it is older: it is passed over (excluded, so the queue serves the one after).
    /// </summary>
    internal static async Task<JsonElement> TakeAsync(Person reviewer, Guid messageId)
    {
        JsonElement found = default;
        var others = new List<Guid>();
        await Eventually.TrueAsync(async () =>
        {
            var next = await reviewer.Client.GetFromJsonAsync<JsonElement>(
                $"/api/annotation/projects/{Moderation}/next{(others.Count == 0 ? "" : "?" + string.Join("&", others.Select(o => $"exclude={o}")))}", Ct);
            if (next.GetProperty("task") is not { ValueKind: JsonValueKind.Object } task) return false;
            if (task.GetProperty("contentId").GetGuid() != messageId)
            {
                others.Add(task.GetProperty("id").GetGuid());
                return false;
            }
            found = task;
            return true;
        }, "the held message is a task in the moderation queue");
        return found;
    }

    Task<T> ScalarAsync<T>(string sql, object? args = null) => ScalarAsync<T>(app, sql, args);

    internal static async Task<T> ScalarAsync<T>(App app, string sql, object? args = null)
    {
        await using var connection = await app.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync(Ct);
        return await connection.ExecuteScalarAsync<T>(sql, args) ?? default!;
    }

    Task<string?> TaskStatusAsync(Guid messageId) => TaskStatusAsync(app, messageId);

    internal static Task<string?> TaskStatusAsync(App app, Guid messageId) =>
        ScalarAsync<string?>(app, "select status || coalesce(': ' || closed_reason, '') from annotation.tasks where content_id = @messageId", new { messageId });

    [Fact]
    public async Task A_held_message_becomes_a_task_with_its_context_and_explanation_and_a_release_puts_it_in_the_room_via_the_review_workspace()
    {
        Person mod = await PersonAsync(Roles.Member), ann = await PersonAsync(Roles.Member), reviewer = await PersonAsync(Roles.Annotator);
        var room = await RoomAsync(mod, ann);
        var before = new List<Guid>();
        foreach (var text in new[] { "hello all", "good morning", "the garden looks lovely this week", "see you at the market" })
            before.Add(await SendAsync(mod, room, text, "approved"));
        var held = await SendAsync(ann, room, StarterModels.Threat, "held");

        var task = await TakeAsync(reviewer, held);

        Assert.Equal("held", task.GetProperty("kind").GetString());
        Assert.Equal(StarterModels.Threat, task.GetProperty("text").GetString());
        var context = task.GetProperty("context");
        Assert.Equal("garden club", context.GetProperty("roomName").GetString());
        Assert.Equal(before.Skip(1), context.GetProperty("before").EnumerateArray().Select(m => m.GetProperty("messageId").GetGuid()));   // the three before it
        var explanation = task.GetProperty("explanation").EnumerateArray().ToList();
        Assert.Contains(explanation, e => e.GetProperty("category").GetString() == "harassment" && e.GetProperty("explanation").GetArrayLength() > 0);
        var storedModel = await ScalarAsync<Guid>("select model_id from chat.messages where id = @held", new { held });
        Assert.Equal(storedModel, task.GetProperty("explainedWith").GetGuid());   // the stored model version explained it
        Assert.True(task.GetProperty("severe").GetBoolean());                     // harassment/threatening is severe

        var submitted = await reviewer.Client.PostAsJsonAsync($"/api/annotation/tasks/{task.GetProperty("id").GetGuid()}/annotations", new { categories = Array.Empty<string>() }, Ct);
        Assert.Equal(HttpStatusCode.OK, submitted.StatusCode);

        await Eventually.TrueAsync(async () => (await HistoryAsync(mod, room)).Contains(held), "the released message is in the room");
        Assert.Equal(reviewer.Id, await ScalarAsync<Guid>("select decided_by from chat.messages where id = @held", new { held }));
        Assert.Equal("done", await TaskStatusAsync(held));
        var audit = await ScalarAsync<string>("select details::text from identity.audit_log where kind = 'chat.message-released' and actor_id = @Id", new { reviewer.Id });
        Assert.Contains("review workspace", audit);
        var label = await ScalarAsync<string>("select payload::text from platform.outbox where wire_name = 'annotation.label-accepted.v1' and (payload->>'contentId')::uuid = @held", new { held });
        Assert.Contains(StarterModels.Threat, label);
        Assert.Contains(held.ToString(), label);
    }

    [Fact]
    public async Task A_removal_takes_the_message_out_for_good_and_the_label_carries_its_categories()
    {
        Person mod = await PersonAsync(Roles.Member), ann = await PersonAsync(Roles.Member), reviewer = await PersonAsync(Roles.Admin);
        var room = await RoomAsync(mod, ann);
        var held = await SendAsync(ann, room, StarterModels.Threat, "held");
        var task = await TakeAsync(reviewer, held);

        var submitted = await reviewer.Client.PostAsJsonAsync($"/api/annotation/tasks/{task.GetProperty("id").GetGuid()}/annotations",
            new { categories = new[] { "harassment/threatening", "violence" } }, Ct);
        Assert.Equal(HttpStatusCode.OK, submitted.StatusCode);

        await Eventually.TrueAsync(async () => await ScalarAsync<string>("select status from chat.messages where id = @held", new { held }) == "removed", "the message is removed");
        Assert.DoesNotContain(held, await HistoryAsync(ann, room));
        var decided = await ScalarAsync<string>("select payload::text from platform.outbox where wire_name = 'annotation.content-decided.v1' and (payload->>'contentId')::uuid = @held", new { held });
        Assert.Equal("remove", JsonDocument.Parse(decided).RootElement.GetProperty("decision").GetString());
        Assert.Contains("harassment/threatening", await ScalarAsync<string>(
            "select payload::text from platform.outbox where wire_name = 'annotation.label-accepted.v1' and (payload->>'contentId')::uuid = @held", new { held }));
    }

    [Fact]
    public async Task A_message_its_author_deletes_closes_its_task()
    {
        Person mod = await PersonAsync(Roles.Member), ann = await PersonAsync(Roles.Member), reviewer = await PersonAsync(Roles.Annotator);
        var room = await RoomAsync(mod, ann);
        var held = await SendAsync(ann, room, StarterModels.Threat, "held");
        await TakeAsync(reviewer, held);

        Assert.Equal(HttpStatusCode.OK, (await ann.Client.DeleteAsync($"/api/chat/messages/{held}", Ct)).StatusCode);

        await Eventually.TrueAsync(async () => await TaskStatusAsync(held) == "closed: withdrawn: its author deleted it", "the task closes as withdrawn");
    }

    [Fact]
    public async Task A_redelivered_decision_is_applied_once_and_a_second_decision_changes_nothing()
    {
        Person mod = await PersonAsync(Roles.Member), ann = await PersonAsync(Roles.Member), reviewer = await PersonAsync(Roles.Annotator);
        var room = await RoomAsync(mod, ann);
        var held = await SendAsync(ann, room, StarterModels.Threat, "held");
        await Eventually.TrueAsync(async () => await TaskStatusAsync(held) == "open", "the task exists");

        var rabbit = app.Services.GetRequiredService<RabbitConnection>();
        await using var channel = await rabbit.CreateConfirmingChannelAsync(Ct);
        async Task PublishAsync(string messageId, string decision)
        {
            var evt = new ContentDecided(ContentSources.ChatMessage, held, decision, [], reviewer.Id, "Test reviewer", DateTimeOffset.UtcNow);
            await channel.BasicPublishAsync(rabbit.Options.Exchange, "annotation.content-decided.v1", mandatory: false,
                new BasicProperties { MessageId = messageId, Type = "annotation.content-decided.v1", ContentType = "application/json" },
                Encoding.UTF8.GetBytes(JsonSerializer.Serialize(evt, new JsonSerializerOptions(JsonSerializerDefaults.Web))), Ct);
        }
        Guid id = Guid.NewGuid(), second = Guid.NewGuid();
        await PublishAsync(id.ToString(), ContentDecided.Release);
        await PublishAsync(id.ToString(), ContentDecided.Release);          // the broker delivers it again
        await PublishAsync(second.ToString(), ContentDecided.Remove);       // a second decision, on a message no longer waiting

        await Eventually.TrueAsync(async () => await ScalarAsync<long>("select count(*) from platform.inbox where handler = 'chat.ContentDecidedHandler' and message_id = any(@Ids)",
            new { Ids = new[] { id, second } }) == 2, "Chat handled both messages");
        Assert.Equal("approved", await ScalarAsync<string>("select status from chat.messages where id = @held", new { held }));
        Assert.Equal(1, await ScalarAsync<long>("select count(*) from identity.audit_log where kind like 'chat.message-%' and subject = @Subject", new { Subject = $"message {held}" }));
        Assert.Contains(held, await HistoryAsync(mod, room));
    }

    [Fact]
    public async Task Members_cannot_label_annotators_cannot_administer_and_nobody_outside_a_project_reaches_its_tasks()
    {
        Person member = await PersonAsync(Roles.Member), annotator = await PersonAsync(Roles.Annotator), admin = await PersonAsync(Roles.Admin);
        var created = await admin.Client.PostAsJsonAsync("/api/annotation/projects", new { name = "toxicity sample", overlap = 2 }, Ct);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var project = (await created.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetGuid();
        var task = Guid.CreateVersion7();
        await ScalarAsync<int>("insert into annotation.tasks (id, project_id, source, kind, text, language) values (@task, @project, 'import', 'item', 'a line', 'en')", new { task, project });

        Assert.Equal(HttpStatusCode.Forbidden, (await member.Client.GetAsync($"/api/annotation/projects/{Moderation}/next", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await annotator.Client.PostAsJsonAsync("/api/annotation/projects", new { name = "mine" }, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await annotator.Client.PutAsJsonAsync($"/api/annotation/projects/{project}", new { overlap = 3 }, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await annotator.Client.GetAsync($"/api/annotation/projects/{project}/next", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await annotator.Client.GetAsync($"/api/annotation/tasks/{task}", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await annotator.Client.PostAsJsonAsync($"/api/annotation/tasks/{task}/annotations", new { categories = new[] { "hate" } }, Ct)).StatusCode);
        Assert.DoesNotContain(project, (await annotator.Client.GetFromJsonAsync<JsonElement>("/api/annotation/projects", Ct)).EnumerateArray().Select(p => p.GetProperty("id").GetGuid()));

        Assert.Equal(HttpStatusCode.NoContent, (await admin.Client.PostAsJsonAsync($"/api/annotation/projects/{project}/members", new { userId = annotator.Id }, Ct)).StatusCode);
        var next = await annotator.Client.GetFromJsonAsync<JsonElement>($"/api/annotation/projects/{project}/next", Ct);
        Assert.Equal(task, next.GetProperty("task").GetProperty("id").GetGuid());
    }

    [Fact]
    public async Task A_flagged_message_becomes_a_task_and_editing_it_does_not_withdraw_the_task()
    {
        Person mod = await PersonAsync(Roles.Member), ann = await PersonAsync(Roles.Member), reviewer = await PersonAsync(Roles.Annotator);
        var (admin, _, _) = await Accounts.WithApiKeyAsync(app, Roles.Admin);
        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/api/ml/watched-words", new { pattern = "turnip", action = "flag" }, Ct)).StatusCode);
        var room = await RoomAsync(mod, ann);

        var flagged = await SendAsync(ann, room, "my turnip won a prize at the show", "approved");   // visible, and sent to review (chat.message-flagged.v1)

        await Eventually.TrueAsync(async () => await TaskStatusAsync(flagged) == "open", "the flagged message is a task");
        Assert.Contains(flagged, await HistoryAsync(mod, room));
        var edited = await ann.Client.PutAsJsonAsync($"/api/chat/messages/{flagged}", new { text = "my turnip won second prize at the show" }, Ct);
        Assert.Equal(HttpStatusCode.OK, edited.StatusCode);
        await Eventually.TrueAsync(async () => await ScalarAsync<string>("select text from annotation.tasks where content_id = @flagged", new { flagged })
            == "my turnip won second prize at the show", "the open task shows the edited text");

        var task = await TakeAsync(reviewer, flagged);
        Assert.Equal("flagged", task.GetProperty("kind").GetString());
        Assert.Contains(task.GetProperty("matches").EnumerateArray(), m => m.GetString()!.Contains("turnip"));
        Assert.Equal("open", await TaskStatusAsync(flagged));   // the edit withdrew nothing
        Assert.Equal(1, await ScalarAsync<long>("select count(*) from annotation.tasks where content_id = @flagged", new { flagged }));
    }
}

/// <summary>An app of its own: the test asserts that nothing at all is left in the reviewer's queue.</summary>
public sealed class ReviewWorkspaceChatFirstTests(ReviewWorkspaceTests.Fixture fixture) : IClassFixture<ReviewWorkspaceTests.Fixture>
{
    readonly App app = fixture.App;

    Task<Person> PersonAsync(string role) => ReviewWorkspaceTests.PersonAsync(app, role);
    Task<T> ScalarAsync<T>(string sql, object? args = null) => ReviewWorkspaceTests.ScalarAsync<T>(app, sql, args);
    Task<string?> TaskStatusAsync(Guid messageId) => ReviewWorkspaceTests.TaskStatusAsync(app, messageId);

    [Fact]
    public async Task A_room_moderator_deciding_in_chat_first_closes_the_task_and_a_late_label_is_refused()
    {
        Person mod = await PersonAsync(Roles.Member), ann = await PersonAsync(Roles.Member), reviewer = await PersonAsync(Roles.Annotator);
        var room = await RoomAsync(mod, ann);
        var held = await SendAsync(ann, room, StarterModels.Threat, "held");
        var task = await TakeAsync(reviewer, held);

        Assert.Equal(HttpStatusCode.OK, (await mod.Client.PostAsync($"/api/chat/messages/{held}/release", null, Ct)).StatusCode);

        await Eventually.TrueAsync(async () => (await TaskStatusAsync(held))?.StartsWith("closed: decided in Chat by") == true, "the task closes as decided in Chat");
        var late = await reviewer.Client.PostAsJsonAsync($"/api/annotation/tasks/{task.GetProperty("id").GetGuid()}/annotations", new { categories = new[] { "violence" } }, Ct);
        Assert.Equal(HttpStatusCode.Conflict, late.StatusCode);
        Assert.Equal("approved", await ScalarAsync<string>("select status from chat.messages where id = @held", new { held }));
        var next = await reviewer.Client.GetFromJsonAsync<JsonElement>($"/api/annotation/projects/{ReviewWorkspaceTests.Moderation}/next", Ct);
        Assert.Equal(JsonValueKind.Null, next.GetProperty("task").ValueKind);
    }
}

/// <summary>An app of its own: a backfill reads every message waiting in the deployment, and leaves an open task behind.</summary>
public sealed class ReviewWorkspaceBackfillTests(ReviewWorkspaceTests.Fixture fixture) : IClassFixture<ReviewWorkspaceTests.Fixture>
{
    readonly App app = fixture.App;

    Task<Person> PersonAsync(string role) => ReviewWorkspaceTests.PersonAsync(app, role);
    Task<T> ScalarAsync<T>(string sql, object? args = null) => ReviewWorkspaceTests.ScalarAsync<T>(app, sql, args);
    Task<string?> TaskStatusAsync(Guid messageId) => ReviewWorkspaceTests.TaskStatusAsync(app, messageId);

    [Fact]
    public async Task Messages_held_before_the_module_existed_are_backfilled_once()
    {
        Person mod = await PersonAsync(Roles.Member), admin = await PersonAsync(Roles.Admin);
        var room = await RoomAsync(mod);
        // Held as Chat stored it before any task existed: written directly, with no event in the outbox.
        Guid old = Guid.CreateVersion7(), gone = Guid.CreateVersion7();   // a model version the registry no longer has
        await ScalarAsync<int>("""
            insert into chat.messages (id, room_id, author_id, author_name, text, html, status, action, flagged, scores, language, model_id, model_version, policy_version)
            values (@old, @room, @Id, 'Moderator', 'I will find you', '<p>I will find you</p>', 'held', 'review', '{harassment}', '{"harassment": 0.9}', 'en', @gone, 1, 1)
            """, new { old, room, mod.Id, gone });

        var first = await admin.Client.PostAsync("/api/annotation/backfill", null, Ct);
        var second = await admin.Client.PostAsync("/api/annotation/backfill", null, Ct);

        Assert.Equal(1, (await first.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("added").GetInt32());
        Assert.Equal(0, (await second.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("added").GetInt32());
        Assert.Equal("open", await TaskStatusAsync(old));
        // Its model version is gone: the production model explained it, and the task says so.
        var explainedWith = await ScalarAsync<Guid?>("select explained_with from annotation.tasks where content_id = @old", new { old });
        Assert.NotNull(explainedWith);
        Assert.NotEqual(gone, explainedWith);
    }
}
