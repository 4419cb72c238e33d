using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using BirbalAI.Contracts.Identity;
using BirbalAI.Contracts.Ml;
using BirbalAI.Ml.Grpc;
using BirbalAI.Testing;
using Dapper;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace BirbalAI.IntegrationTests.Moderation;

/// <summary>
/// Watched words on every moderation path (/api/moderation/check, /v1/moderations, gRPC): every action, obfuscated
/// and look-alike inputs, whole-word edges; versioned with the policy, audited, in force on both replicas at once;
/// the API's limits and CSV round trip; the admin page with its test box and import.
/// </summary>
public sealed class WatchedWordsTests : TwoReplicas
{
    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        First.WithStarterModel().With("Ml:WatchedWords:MaxEntries", "12").With("Ml:WatchedWords:MaxRegexes", "3");
        Second.WithStarterModel().With("Ml:WatchedWords:MaxEntries", "12").With("Ml:WatchedWords:MaxRegexes", "3");
    }

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    // Harmless garden words, so the fixture model approves every text below and only the watched words decide.
    const string Base = "Thanks for the help with the garden today, see you at the market on Saturday";

    static readonly object[] Vegetables =
    [
        new { pattern = "marrow", action = "block" },
        new { pattern = "pumpkin", action = "require-approval" },
        new { pattern = "turnip", action = "flag" },
        new { pattern = "parsnip", action = "censor" },
        new { pattern = "radish", action = "replace", replacement = "veg" },
        new { pattern = "courgette", action = "add-category", category = "hate" },
        new { pattern = "cunt", action = "block" },
        new { pattern = @"bean\w*", kind = "regex", action = "block" },
    ];

    async Task<HttpClient> AdminWithVegetablesAsync()
    {
        var (admin, _, _) = await Accounts.WithApiKeyAsync(First, Roles.Admin);
        foreach (var entry in Vegetables)
        {
            var response = await admin.PostAsJsonAsync("/api/ml/watched-words", entry, Ct);
            Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync(Ct));
        }
        return admin;
    }

    static async Task<JsonElement> CheckAsync(HttpClient client, params string[] texts)
    {
        var response = await client.PostAsJsonAsync("/api/moderation/check", new { texts }, Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
    }

    [Fact]
    public async Task Every_action_applies_on_the_check_api_with_obfuscated_and_look_alike_inputs()
    {
        var admin = await AdminWithVegetablesAsync();

        var body = await CheckAsync(admin,
            Base,                                         // 0 nothing
            $"{Base}, bring the m4rrow",                  // 1 block (leet)
            $"{Base}, bring the p u m p k i n",           // 2 require approval (spaced out)
            $"{Base}, bring the turn1p",                  // 3 flag (leet)
            $"{Base}, bring the pаrsnip",                 // 4 censor (Cyrillic а)
            $"{Base}, bring the RADISH",                  // 5 replace
            $"{Base}, bring the courgette",               // 6 add a category
            $"{Base}, I grew up near Scunthorpe",         // 7 whole word: no match
            $"{Base}, plant some beanstalks");            // 8 expression
        var results = body.GetProperty("results").EnumerateArray().ToList();

        Assert.Equal(9, body.GetProperty("policyVersion").GetInt32());   // v1 + eight additions
        Assert.Equal(["approve", "reject", "review", "approve", "approve", "approve", "reject", "approve", "reject"],
            results.Select(r => r.GetProperty("action").GetString()));
        Assert.Empty(results[0].GetProperty("matches").EnumerateArray());
        Assert.False(results[0].GetProperty("flagged").GetBoolean());
        var block = results[1].GetProperty("matches").EnumerateArray().Single();
        Assert.Equal(("marrow", "block", "m4rrow", "watched word: marrow"),
            (block.GetProperty("pattern").GetString(), block.GetProperty("action").GetString(), block.GetProperty("matched").GetString(), block.GetProperty("explanation").GetString()));
        Assert.Equal("held", results[2].GetProperty("status").GetString());
        Assert.Equal("p u m p k i n", results[2].GetProperty("matches")[0].GetProperty("matched").GetString());
        Assert.True(results[3].GetProperty("flaggedForReview").GetBoolean());
        Assert.True(results[3].GetProperty("flagged").GetBoolean());
        Assert.Equal($"{Base}, bring the ■■■■■■■", results[4].GetProperty("displayText").GetString());
        Assert.Equal($"{Base}, bring the veg", results[5].GetProperty("displayText").GetString());
        Assert.Equal(JsonValueKind.Null, results[0].GetProperty("displayText").ValueKind);
        var hate = results[6].GetProperty("categories").EnumerateArray().Single(c => c.GetProperty("name").GetString() == "hate");
        Assert.Equal((1f, "reject"), (hate.GetProperty("score").GetSingle(), hate.GetProperty("action").GetString()));
        Assert.Equal("watched word: courgette", hate.GetProperty("explanation")[0].GetProperty("ngram").GetString());
        Assert.Empty(results[7].GetProperty("matches").EnumerateArray());
        Assert.Equal("beanstalks", results[8].GetProperty("matches")[0].GetProperty("matched").GetString());
    }

    [Fact]
    public async Task Open_ai_moderations_flag_everything_but_a_plain_approval()
    {
        var admin = await AdminWithVegetablesAsync();
        string[] inputs = [Base, $"{Base} marrow", $"{Base} pumpkin", $"{Base} turnip", $"{Base} parsnip", $"{Base} courgette", $"{Base} Scunthorpe", $"{Base} r a d i s h"];

        var response = await admin.PostAsJsonAsync("/v1/moderations", new { input = inputs }, Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var results = (await response.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("results").EnumerateArray().ToList();
        // A censored text is flagged too: an OpenAI client cannot see the masked text, so it must not show the original.
        Assert.Equal([false, true, true, true, true, true, false, true], results.Select(r => r.GetProperty("flagged").GetBoolean()));
        Assert.True(results[5].GetProperty("categories").GetProperty("hate").GetBoolean());
        Assert.Equal(1f, results[5].GetProperty("category_scores").GetProperty("hate").GetSingle());
    }

    [Fact]
    public async Task Grpc_carries_the_matches_the_display_text_and_the_flag()
    {
        await AdminWithVegetablesAsync();
        var (_, key, _) = await Accounts.WithApiKeyAsync(First, Roles.Member);
        var client = new BirbalAI.Ml.Grpc.Moderation.ModerationClient(GrpcChannel.ForAddress(First.Server.BaseAddress,
            new GrpcChannelOptions { HttpHandler = First.Server.CreateHandler() }));

        var response = await client.CheckAsync(new CheckRequest { Texts = { Base, $"{Base} MARR0W", $"{Base} pumpkin", $"{Base} turnip", $"{Base} p.a.r.s.n.i.p", $"{Base} radish", $"{Base} cоurgette" } },
            new Metadata { { "authorization", $"Bearer {key}" } }, cancellationToken: Ct);

        var r = response.Results;
        Assert.Equal(["approve", "reject", "review", "approve", "approve", "approve", "reject"], r.Select(v => v.Action));
        var hate = r[6].Categories.Single(c => c.Category == "hate");
        Assert.Equal((1f, "reject", "watched word: courgette"), (hate.Score, hate.Action, hate.Explanation[0].Ngram));
        Assert.Equal(("add-category", "hate"), (r[6].Matches[0].Action, r[6].Matches[0].Category));
        Assert.Empty(r[0].Matches);
        Assert.False(r[0].HasDisplayText);
        Assert.Equal(("marrow", "block", "MARR0W"), (r[1].Matches[0].Pattern, r[1].Matches[0].Action, r[1].Matches[0].Matched));
        Assert.Equal("watched word: pumpkin", r[2].Matches[0].Explanation);
        Assert.True(r[3].FlaggedForReview);
        Assert.True(r[3].Flagged);
        Assert.Equal($"{Base} ■■■■■■■■■■■■■", r[4].DisplayText);
        Assert.True(r[4].HasDisplayText);
        Assert.Equal($"{Base} veg", r[5].DisplayText);
    }

    [Fact]
    public async Task A_change_is_a_policy_version_audited_and_in_force_on_both_replicas_at_once()
    {
        var (admin, _, adminId) = await Accounts.WithApiKeyAsync(First, Roles.Admin);
        var second = Second.Services.GetRequiredService<IModerator>();
        Assert.Equal(ModerationAction.Approve, (await second.ModerateAsync($"{Base} marrow", Ct)).Action);

        var added = await admin.PostAsJsonAsync("/api/ml/watched-words", new { pattern = "marrow", action = "block", expectedVersion = 1 }, Ct);

        Assert.Equal(HttpStatusCode.Created, added.StatusCode);
        var saved = await added.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal(2, saved.GetProperty("policyVersion").GetInt32());
        var id = saved.GetProperty("entry").GetProperty("id").GetGuid();
        await Eventually.TrueAsync(async () => (await second.ModerateAsync($"{Base} marrow", Ct)).Action == ModerationAction.Reject, "the second replica blocks it");
        var verdict = await second.ModerateAsync($"{Base} marrow", Ct);
        Assert.Equal(2, verdict.PolicyVersion);
        Assert.Equal(id, Assert.Single(verdict.Matches).EntryId);
        await using var connection = await First.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync(Ct);
        var audit = await connection.QuerySingleAsync<(Guid Actor, string Subject, string Details)>(
            "select actor_id, subject, details::text from identity.audit_log where kind = 'ml.watched-words-changed'");
        Assert.Equal((adminId, "policy v2"), (audit.Actor, audit.Subject));
        Assert.Contains("word 'marrow' → block", audit.Details);

        // Thresholds saved later keep the words; an edit and a delete are versions too.
        var thresholds = BirbalAI.Ml.Categories.Default.ToDictionary(c => c, _ => new { review = 0.5f, reject = 0.9f });
        Assert.Equal(HttpStatusCode.OK, (await admin.PutAsJsonAsync("/api/ml/policy", new { thresholds }, Ct)).StatusCode);
        var edited = await admin.PutAsJsonAsync($"/api/ml/watched-words/{id}", new { pattern = "marrow", action = "require-approval" }, Ct);
        Assert.Equal(4, (await edited.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("policyVersion").GetInt32());
        await Eventually.TrueAsync(async () => (await second.ModerateAsync($"{Base} marrow", Ct)).Action == ModerationAction.Review, "the second replica holds it");
        Assert.Equal(HttpStatusCode.OK, (await admin.DeleteAsync($"/api/ml/watched-words/{id}", Ct)).StatusCode);
        await Eventually.TrueAsync(async () => (await second.ModerateAsync($"{Base} marrow", Ct)).Action == ModerationAction.Approve, "the second replica lets it through");
        Assert.Equal(HttpStatusCode.NotFound, (await admin.DeleteAsync($"/api/ml/watched-words/{id}", Ct)).StatusCode);
        // The history keeps which edit each version had.
        var history = (await connection.QueryAsync<(int AddedIn, int? RemovedIn, string Action)>(
            "select added_in, removed_in, action from ml.watched_words where id = @id order by added_in", new { id })).ToList();
        Assert.Equal([(2, (int?)4, "block"), (4, (int?)5, "require-approval")], history);
        Assert.Equal(3, await connection.ExecuteScalarAsync<int>("select count(*) from identity.audit_log where kind = 'ml.watched-words-changed'"));
    }

    [Fact]
    public async Task Admins_adding_on_both_replicas_at_once_keep_each_others_words()
    {
        var (first, _, _) = await Accounts.WithApiKeyAsync(First, Roles.Admin);
        var (second, _, _) = await Accounts.WithApiKeyAsync(Second, Roles.Admin);

        var adds = Enumerable.Range(0, 5).SelectMany(i => new[]
        {
            first.PostAsJsonAsync("/api/ml/watched-words", new { pattern = $"first{i}", action = "flag" }, Ct),
            second.PostAsJsonAsync("/api/ml/watched-words", new { pattern = $"second{i}", action = "flag" }, Ct),
        });
        var responses = await Task.WhenAll(adds);

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.Created, r.StatusCode));
        await Eventually.TrueAsync(async () => (await second.GetFromJsonAsync<JsonElement>("/api/ml/watched-words", Ct)).GetProperty("policyVersion").GetInt32() == 11,
            "the second replica has the last version");
        var entries = (await second.GetFromJsonAsync<JsonElement>("/api/ml/watched-words", Ct)).GetProperty("entries").EnumerateArray().Select(e => e.GetProperty("pattern").GetString()).Order().ToList();
        Assert.Equal([.. Enumerable.Range(0, 5).SelectMany(i => new[] { $"first{i}", $"second{i}" }).Order()], entries);
    }

    [Fact]
    public async Task Limits_and_expressions_NonBacktracking_cannot_run_are_refused_as_problem_details()
    {
        var (admin, _, _) = await Accounts.WithApiKeyAsync(First, Roles.Admin);

        var backreference = await admin.PostAsJsonAsync("/api/ml/watched-words", new { pattern = @"(\w)\1", kind = "regex", action = "block" }, Ct);
        Assert.Equal(HttpStatusCode.BadRequest, backreference.StatusCode);
        Assert.Equal("application/problem+json", backreference.Content.Headers.ContentType?.MediaType);
        Assert.Contains("RegexOptions.NonBacktracking", await backreference.Content.ReadAsStringAsync(Ct));

        var tooLong = await admin.PostAsJsonAsync("/api/ml/watched-words", new { pattern = new string('a', 101), action = "block" }, Ct);
        Assert.Contains("Ml:WatchedWords:MaxWordLength", await tooLong.Content.ReadAsStringAsync(Ct));

        for (var i = 0; i < 3; i++)
            Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/api/ml/watched-words", new { pattern = $"x{i}y+", kind = "regex", action = "flag" }, Ct)).StatusCode);
        var fourth = await admin.PostAsJsonAsync("/api/ml/watched-words", new { pattern = "z+", kind = "regex", action = "flag" }, Ct);
        Assert.Contains("at most 3 regular expressions (Ml:WatchedWords:MaxRegexes)", await fourth.Content.ReadAsStringAsync(Ct));
        for (var i = 0; i < 9; i++)
            Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/api/ml/watched-words", new { pattern = $"word{i}", action = "flag" }, Ct)).StatusCode);
        var thirteenth = await admin.PostAsJsonAsync("/api/ml/watched-words", new { pattern = "onemore", action = "flag" }, Ct);
        Assert.Equal(HttpStatusCode.BadRequest, thirteenth.StatusCode);
        Assert.Contains("at most 12 watched words (Ml:WatchedWords:MaxEntries)", await thirteenth.Content.ReadAsStringAsync(Ct));
        Assert.Equal(12, (await admin.GetFromJsonAsync<JsonElement>("/api/ml/watched-words", Ct)).GetProperty("entries").GetArrayLength());
    }

    [Fact]
    public async Task Csv_export_imports_back_unchanged_and_a_bad_file_changes_nothing()
    {
        var admin = await AdminWithVegetablesAsync();
        var exported = await admin.GetStringAsync("/api/ml/watched-words/export", Ct);
        var before = await admin.GetFromJsonAsync<JsonElement>("/api/ml/watched-words", Ct);

        var bad = exported + ",kale,word,blok,,,,true\r\n,kale,word,replace,,,,true\r\n";
        var refused = await admin.PostAsync("/api/ml/watched-words/import", new StringContent(bad, Encoding.UTF8, "text/csv"), Ct);
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        var problem = await refused.Content.ReadAsStringAsync(Ct);
        Assert.Contains("row 10: action: 'blok' is not one of", problem);
        Assert.Contains("row 11: replacement: required", problem);
        Assert.Equal(before.GetProperty("policyVersion").GetInt32(), (await admin.GetFromJsonAsync<JsonElement>("/api/ml/watched-words", Ct)).GetProperty("policyVersion").GetInt32());

        var same = await admin.PostAsync("/api/ml/watched-words/import", new StringContent(exported, Encoding.UTF8, "text/csv"), Ct);
        Assert.Equal(HttpStatusCode.OK, same.StatusCode);
        var after = await admin.GetFromJsonAsync<JsonElement>("/api/ml/watched-words", Ct);
        Assert.Equal(before.GetProperty("entries").GetRawText(), after.GetProperty("entries").GetRawText());
        Assert.Equal(exported, await admin.GetStringAsync("/api/ml/watched-words/export", Ct));
        await using var connection = await First.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync(Ct);
        Assert.Equal(Vegetables.Length, await connection.ExecuteScalarAsync<int>("select count(*) from ml.watched_words"));   // unchanged rows are not rewritten
    }

    [Fact]
    public async Task The_page_adds_a_word_tries_a_text_and_refuses_a_bad_import_with_its_row_numbers()
    {
        var admin = await Accounts.SignedInAsync(First, Roles.Admin);
        var page = await admin.GetDocumentAsync("/admin/ml/watched-words");

        var added = await admin.SubmitAsync(page, "#entry", new Dictionary<string, string> { ["Entry.Pattern"] = "pumpkin", ["Entry.Action"] = "require-approval" }, pageUrl: "/admin/ml/watched-words");
        Assert.Equal(HttpStatusCode.OK, added.StatusCode);
        var saved = await HtmlForms.ParseAsync(added);
        Assert.Contains("Saved as policy version 2", saved.QuerySelector("#result")!.TextContent);
        Assert.NotNull(saved.QuerySelector("#words tr[data-pattern='pumpkin']"));

        var tried = await HtmlForms.ParseAsync(await admin.SubmitAsync(saved, "#try", new Dictionary<string, string> { ["TryText"] = $"{Base}, the pümpkin? no: p-u-m-p-k-i-n" }, pageUrl: "/admin/ml/watched-words"));
        Assert.Equal("held", tried.QuerySelector("#try-status")!.TextContent);
        Assert.Contains("watched word: pumpkin", tried.QuerySelector("#matches")!.TextContent);

        var csv = "pattern,kind,action\nkale,word,block\n(a)\\1,regex,block\n";
        using var form = new MultipartFormDataContent();
        foreach (var input in tried.QuerySelectorAll("#import input[type=hidden]"))
            form.Add(new StringContent(input.GetAttribute("value") ?? ""), input.GetAttribute("name")!);
        form.Add(new ByteArrayContent(Encoding.UTF8.GetBytes(csv)), "file", "words.csv");
        var imported = await admin.PostAsync("/admin/ml/watched-words?handler=Import", form, Ct);
        Assert.Equal(HttpStatusCode.BadRequest, imported.StatusCode);
        var refused = await HtmlForms.ParseAsync(imported);
        var alert = refused.QuerySelector("[role=alert]")!.TextContent;
        Assert.Contains("row 3: pattern: this expression cannot run with RegexOptions.NonBacktracking", alert);
        Assert.Contains("Nothing was imported.", alert);
        Assert.NotNull(refused.QuerySelector("#words tr[data-pattern='pumpkin']"));
        Assert.Null(refused.QuerySelector("#words tr[data-pattern='kale']"));
    }
}
