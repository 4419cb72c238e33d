using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using BirbalAI.Testing;

namespace BirbalAI.IntegrationTests.Hosting;

/// <summary>
/// `scripts/birbal`, the way the README runs every verb after `make run`: from the repository root, with no settings
/// of the caller's own. Pointed at the test set and this class's database (BIRBAL_SERVICES, BIRBAL_DATABASE).
/// </summary>
public sealed class WrapperTests(App app) : IClassFixture<App>
{
    static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    static string Wrapper => Path.Combine(AppProcess.RepoRoot, "scripts", "birbal");

    Dictionary<string, string?> Environment() => new()
    {
        ["BIRBAL_SERVICES"] = "test",
        ["BIRBAL_DATABASE"] = app.Database.Name,
        ["CONFIGURATION"] = AppProcess.AppDll.Contains("/Release/", StringComparison.Ordinal) ? "Release" : "Debug",
        // This class's own key and queue prefixes, as the in-process app uses (Section__Key passes through the wrapper).
        ["Redis__KeyPrefix"] = app.Prefix + ":",
        ["RabbitMq__Prefix"] = app.Prefix + ".",
    };

    AppProcess Run(string? input, params string[] args) =>
        AppProcess.StartProgram(Wrapper, args, Environment(), input, AppProcess.RepoRoot);

    [Fact]
    public async Task Admin_create_through_the_wrapper_makes_an_admin_who_can_sign_in()
    {
        await using var cli = Run("wrapper password 123\n", "admin", "create", "--email", "wrapped@example.org");

        Assert.True(await cli.ExitCodeAsync(Patience) == 0, cli.Errors);
        Assert.Equal("admin create: wrapped@example.org is an Admin", cli.Output.Trim());
        var token = await app.CreateClient().PostAsJsonAsync("/api/auth/token",
            new { email = "wrapped@example.org", password = "wrapper password 123" }, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, token.StatusCode);
    }

    [Fact]
    public async Task Apikey_create_through_the_wrapper_prints_only_the_key()
    {
        await using var cli = Run(null, "apikey", "create", "--user", "service", "--name", "wrapped bot", "--role", "Member");

        Assert.True(await cli.ExitCodeAsync(Patience) == 0, cli.Errors);
        var key = cli.Output.Trim();
        Assert.Matches("^bk_[^\\s]+$", key);   // the whole of standard output: `key=$(scripts/birbal apikey create …)` works
        var client = app.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        var me = await client.GetFromJsonAsync<JsonElement>("/api/identity/me", TestContext.Current.CancellationToken);
        Assert.Equal("wrapped bot", me.GetProperty("name").GetString());
    }

    [Fact]
    public async Task Help_lists_every_verb_the_README_runs()
    {
        await using var cli = Run(null, "help");

        Assert.True(await cli.ExitCodeAsync(Patience) == 0, cli.Errors);
        // Every `scripts/birbal VERB …` line of the README: its words up to the first option or argument.
        var verbs = File.ReadLines(Path.Combine(AppProcess.RepoRoot, "README.md"))
            .Select(line => System.Text.RegularExpressions.Regex.Match(line, @"scripts/birbal ((?:[a-z][a-z-]*)(?: [a-z][a-z-]*)?)(?= |$)"))
            .Where(m => m.Success).Select(m => m.Groups[1].Value).Distinct().ToList();
        Assert.Contains("ml rescore", verbs);
        foreach (var verb in verbs.Where(v => v != "help"))
        {
            var words = verb.Split(' ');
            // "ml list" is a verb; in "demo then" only "demo" is.
            Assert.True(cli.Output.Contains($"BirbalAI.Web {verb} ", StringComparison.Ordinal) || cli.Output.Contains($"BirbalAI.Web {words[0]} ", StringComparison.Ordinal),
                $"the README runs `scripts/birbal {verb}`, which help does not list");
        }
    }

    [Fact]
    public async Task An_unknown_service_set_is_refused_with_exit_code_2()
    {
        var environment = Environment();
        environment["BIRBAL_SERVICES"] = "production";
        await using var cli = AppProcess.StartProgram(Wrapper, ["ml", "list"], environment, null, AppProcess.RepoRoot);

        Assert.Equal(2, await cli.ExitCodeAsync(Patience));
        Assert.Equal("birbal: BIRBAL_SERVICES must be run or test, not 'production'", cli.Errors.Trim());
    }
}
