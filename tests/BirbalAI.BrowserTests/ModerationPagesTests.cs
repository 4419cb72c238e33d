using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace BirbalAI.BrowserTests;

/// <summary>An Admin tries the moderator on a text and tightens the policy, in Debian's chromium.</summary>
public sealed class ModerationPagesTests : IAsyncLifetime
{
    readonly BrowserApp app = new();

    public ValueTask InitializeAsync() => app.InitializeAsync();
    public ValueTask DisposeAsync() => app.DisposeAsync();

    static string Shot(string name) => Path.Combine(BrowserApp.ScreenshotDirectory, name);

    [Fact]
    public async Task Try_a_threat_then_change_the_policy_and_see_the_new_thresholds()
    {
        var page = await app.Browser.NewPageAsync(app.Address);
        await page.GotoAsync("/account/setup");
        await page.GetByLabel("Email").FillAsync("admin@example.org");
        await page.GetByLabel("Your name").FillAsync("Ada Admin");
        await page.GetByLabel("Password").FillAsync("admin passphrase 1");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create the Admin account" }).ClickAsync();

        await page.GetByRole(AriaRole.Link, new() { Name = "Try it" }).ClickAsync();
        await page.GetByLabel("Text").FillAsync("I will find where you live and I will kill you");
        await page.GetByRole(AriaRole.Button, new() { Name = "Moderate" }).ClickAsync();
        await Expect(page.Locator("#verdict .verdict")).ToHaveTextAsync("reject");
        await Expect(page.Locator("#language")).ToHaveTextAsync("en");
        await Expect(page.Locator("#scores tr[data-action='reject'] .explanation").First).ToContainTextAsync("“");
        await Expect(page.GetByLabel("Text")).ToHaveValueAsync("I will find where you live and I will kill you");   // kept to edit and try again
        await page.ScreenshotAsync(new() { Path = Shot("try-it.png"), FullPage = true });

        await page.GetByRole(AriaRole.Link, new() { Name = "Policy" }).ClickAsync();
        await page.GetByLabel("Review threshold for hate", new() { Exact = true }).FillAsync("0.3");
        await page.GetByLabel("What changed and why").FillAsync("hold more hate for review");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save as a new version" }).ClickAsync();
        await Expect(page.Locator("#result")).ToContainTextAsync("Saved as version 2");
        await Expect(page.Locator("#history")).ToContainTextAsync("hold more hate for review");
        await Expect(page.GetByLabel("Review threshold for hate", new() { Exact = true })).ToHaveValueAsync("0.3");
        await page.ScreenshotAsync(new() { Path = Shot("policy.png"), FullPage = true });

        await page.GetByRole(AriaRole.Link, new() { Name = "Try it" }).ClickAsync();
        await page.GetByLabel("Text").FillAsync("thanks for the help today, see you at the market");
        await page.GetByRole(AriaRole.Button, new() { Name = "Moderate" }).ClickAsync();
        await Expect(page.Locator("#verdict .verdict")).ToHaveTextAsync("approve");
        await Expect(page.Locator("#verdict")).ToContainTextAsync("Policy");
        await Expect(page.Locator("#verdict dl")).ToContainTextAsync("version 2");
    }
}
