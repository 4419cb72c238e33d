using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using BirbalAI.IntegrationTests.Hosting;
using BirbalAI.Testing;

namespace BirbalAI.IntegrationTests.Identity;

/// <summary>`admin create` and `apikey create` on the real executable, against the database the app uses.</summary>
public sealed class CliTests(App app) : IClassFixture<App>
{
    static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    Dictionary<string, string?> Settings() => AppProcess.Settings(app.Database, app.Prefix);

    [Fact]
    public async Task Admin_create_reads_the_password_from_standard_input_and_the_admin_can_sign_in()
    {
        await using var cli = AppProcess.StartWithInput(Settings(), "operator password 123\n", "admin", "create", "--email", "operator@example.org");

        Assert.Equal(0, await cli.ExitCodeAsync(Patience));
        Assert.Contains("admin create: operator@example.org is an Admin", cli.Output);
        var token = await app.CreateClient().PostAsJsonAsync("/api/auth/token",
            new { email = "operator@example.org", password = "operator password 123" }, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, token.StatusCode);
    }

    [Fact]
    public async Task Apikey_create_prints_a_key_once_that_works_with_its_role()
    {
        var (_, email) = await Accounts.CreateAsync(app, "Admin");
        await using var cli = AppProcess.Start(Settings(), "apikey", "create", "--user", email, "--name", "nightly export", "--role", "Annotator");

        Assert.True(await cli.ExitCodeAsync(Patience) == 0, cli.Errors);
        var key = cli.Output.Trim();
        Assert.StartsWith("bk_", key);
        var client = app.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        var me = await client.GetFromJsonAsync<JsonElement>("/api/identity/me", TestContext.Current.CancellationToken);
        Assert.Equal("Annotator", me.GetProperty("role").GetString());   // capped below the user's Admin
    }

    [Fact]
    public async Task Apikey_create_for_a_new_service_account()
    {
        await using var cli = AppProcess.Start(Settings(), "apikey", "create", "--user", "service", "--name", "forum bot", "--role", "Member");

        Assert.Equal(0, await cli.ExitCodeAsync(Patience));
        var client = app.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", cli.Output.Trim());
        var me = await client.GetFromJsonAsync<JsonElement>("/api/identity/me", TestContext.Current.CancellationToken);
        Assert.Equal("forum bot", me.GetProperty("name").GetString());
    }

    [Theory]
    [InlineData("", "usage: no password on standard input", "admin", "create", "--email", "someone@example.org")]
    [InlineData("short\n", "usage: Password: at least 10 characters", "admin", "create", "--email", "someone@example.org")]
    [InlineData(null, "usage: missing --email", "admin", "create")]
    [InlineData(null, "usage: Role: choose Member, Annotator, Admin", "apikey", "create", "--user", "service", "--name", "x", "--role", "Root")]
    [InlineData(null, "usage: no user nobody@example.org", "apikey", "create", "--user", "nobody@example.org", "--name", "x", "--role", "Member")]
    [InlineData(null, "unknown verb 'frobnicate'", "frobnicate")]
    public async Task Wrong_use_gets_one_line_and_exit_code_2(string? input, string message, params string[] args)
    {
        await using var cli = AppProcess.StartWithInput(Settings(), input ?? "", args);

        Assert.Equal(2, await cli.ExitCodeAsync(Patience));
        Assert.StartsWith(message, cli.Errors.Trim());
        Assert.Single(cli.Errors.Trim().Split('\n'));
    }
}
