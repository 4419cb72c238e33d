using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using BirbalAI.Annotation.Projects;
using BirbalAI.Contracts.Identity;
using BirbalAI.Testing;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace BirbalAI.IntegrationTests.Annotation;

/// <summary>Importing items to label: JSONL and CSV, a validation report with line numbers, nothing committed on a bad row unless skipped, the row limit.</summary>
public sealed class ImportTests : IAsyncLifetime
{
    readonly App app = new();
    HttpClient admin = null!;
    Guid project;

    public async ValueTask InitializeAsync()
    {
        await app.InitializeAsync();
        app.With("Annotation:MaxImportRows", "5");
        (admin, _, _) = await Accounts.WithApiKeyAsync(app, Roles.Admin);
        var created = await admin.PostAsJsonAsync("/api/annotation/projects", new { name = "imported", overlap = 1 }, Ct);
        project = (await created.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetGuid();
    }

    public ValueTask DisposeAsync() => app.DisposeAsync();

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    Task<HttpResponseMessage> ImportAsync(string format, string body, bool skip = false, Guid? into = null) =>
        admin.PostAsync($"/api/annotation/projects/{into ?? project}/import?format={format}{(skip ? "&skipBadRows=true" : "")}",
            new StringContent(body, Encoding.UTF8, format == "csv" ? "text/csv" : "application/x-ndjson"), Ct);

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
        const string file = "{\"text\": \"good one\"}\n{\"text\": \"\"}\nnot json\n{\"text\": \"good two\"}\n";

        var refused = await ImportAsync("jsonl", file);
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        var problem = await refused.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal([2, 3], problem.GetProperty("errors").EnumerateArray().Select(e => e.GetProperty("line").GetInt32()));
        Assert.Contains("line 2: text is missing or empty", problem.GetProperty("detail").GetString());
        Assert.Empty(await TasksAsync());

        var skipped = await (await ImportAsync("jsonl", file, skip: true)).Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal(2, skipped.GetProperty("imported").GetInt32());
        Assert.Equal([2, 3], skipped.GetProperty("skipped").EnumerateArray().Select(e => e.GetProperty("line").GetInt32()));
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
}
