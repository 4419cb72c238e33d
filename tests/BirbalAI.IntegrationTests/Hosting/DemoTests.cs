using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace BirbalAI.IntegrationTests.Hosting;

/// <summary>
/// `scripts/birbal demo` on an empty installation with the real starter model: the people it prints sign in with
/// the passwords it printed, and the conversation is there with some messages held by the moderator.
/// </summary>
public sealed partial class DemoTests : IClassFixture<App>
{
    static readonly TimeSpan Patience = TimeSpan.FromSeconds(180);
    readonly App app;

    public DemoTests(App app)
    {
        this.app = app;
        app.With("Ml:StarterModelDirectory", StarterModels.Directory);
    }

    AppProcess Demo() => AppProcess.StartProgram(Path.Combine(AppProcess.RepoRoot, "scripts", "birbal"), ["demo"], new Dictionary<string, string?>
    {
        ["BIRBAL_SERVICES"] = "test",
        ["BIRBAL_DATABASE"] = app.Database.Name,
        ["CONFIGURATION"] = AppProcess.AppDll.Contains("/Release/", StringComparison.Ordinal) ? "Release" : "Debug",
        ["Redis__KeyPrefix"] = app.Prefix + ":",
        ["RabbitMq__Prefix"] = app.Prefix + ".",
        // The registry is empty: the demo registers the starter model, as the app does at its first start.
        ["Ml__StarterModelDirectory"] = StarterModels.Directory,
    }, null, AppProcess.RepoRoot);

    async Task<HttpClient> SignedInAsync(string email, string password)
    {
        var client = app.CreateClient();
        var token = await client.PostAsJsonAsync("/api/auth/token", new { email, password }, TestContext.Current.CancellationToken);
        Assert.True(token.StatusCode == HttpStatusCode.OK, $"{email} signs in with the printed password");
        var jwt = (await token.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("access_token").GetString();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", jwt);
        return client;
    }

    [Fact]
    public async Task Demo_fills_an_empty_installation_whose_people_sign_in_and_find_held_messages_and_is_refused_the_second_time()
    {
        await using var demo = Demo();
        Assert.True(await demo.ExitCodeAsync(Patience) == 0, demo.Errors);

        var people = Person().Matches(demo.Output).Select(m => (Role: m.Groups["role"].Value, Email: m.Groups["email"].Value, Password: m.Groups["password"].Value)).ToList();
        Assert.Equal(["Admin", "Annotator", "Member", "Member", "Member"], people.Select(p => p.Role));
        var verdicts = Verdict().Matches(demo.Output).Select(m => m.Groups["status"].Value).ToList();
        Assert.Equal(10, verdicts.Count);
        var held = verdicts.Count(v => v == "held");
        Assert.True(held >= 2, $"the starter model holds some of the conversation (held {held}):\n{demo.Output}");
        Assert.Contains("rejected", verdicts);

        foreach (var (role, email, password) in people)
        {
            var me = await (await SignedInAsync(email, password)).GetFromJsonAsync<JsonElement>("/api/identity/me", TestContext.Current.CancellationToken);
            Assert.Equal(role, me.GetProperty("role").GetString());
        }

        // Maya moderates the garden club: its held messages wait for her; Lena, a member, never sees them.
        var maya = await SignedInAsync(people[2].Email, people[2].Password);
        var review = await maya.GetFromJsonAsync<JsonElement>("/api/chat/review", TestContext.Current.CancellationToken);
        Assert.Equal(held, Items(review).Count());
        var lena = await SignedInAsync(people[4].Email, people[4].Password);
        var rooms = await lena.GetFromJsonAsync<JsonElement>("/api/chat/rooms", TestContext.Current.CancellationToken);
        var garden = Items(rooms).Single(r => r.GetProperty("name").GetString() == "Garden club").GetProperty("id").GetGuid();
        var history = Items(await lena.GetFromJsonAsync<JsonElement>($"/api/chat/rooms/{garden}/messages", TestContext.Current.CancellationToken)).ToList();
        Assert.DoesNotContain(history, m => m.GetProperty("status").GetString() == "held");
        Assert.Contains(history, m => m.GetProperty("text").GetString()!.StartsWith("Morning all!", StringComparison.Ordinal));

        await using var again = Demo();
        Assert.Equal(2, await again.ExitCodeAsync(Patience));
        Assert.Equal("demo refused: this installation already has content (5 account(s), 2 room(s)); the demo fills only an empty one", again.Errors.Trim());
    }

    /// <summary>The list in an answer: the answer itself, or its one array property.</summary>
    static IEnumerable<JsonElement> Items(JsonElement answer) => answer.ValueKind == JsonValueKind.Array
        ? answer.EnumerateArray()
        : answer.EnumerateObject().Single(p => p.Value.ValueKind == JsonValueKind.Array).Value.EnumerateArray();

    [GeneratedRegex(@"^  (?<role>Admin|Annotator|Member) +.+? +(?<email>\S+@example\.org) +(?<password>\S+)$", RegexOptions.Multiline)]
    private static partial Regex Person();

    [GeneratedRegex(@"^  (?<status>approved|held|rejected) +\S", RegexOptions.Multiline)]
    private static partial Regex Verdict();
}
