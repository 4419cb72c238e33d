using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace BirbalAI.BrowserTests;

/// <summary>An Admin looks at the starter ensemble on the Models page and sees, in Try it, which component drove a score.</summary>
public sealed partial class ModelsPageTests : IAsyncLifetime
{
    readonly BrowserApp app = new();

    public ValueTask InitializeAsync() => app.InitializeAsync();
    public ValueTask DisposeAsync() => app.DisposeAsync();

    static string Shot(string name) => Path.Combine(BrowserApp.ScreenshotDirectory, name);

    [Fact]
    public async Task The_models_page_shows_the_ensembles_components_and_try_it_names_the_driver()
    {
        var page = await app.Browser.NewPageAsync(app.Address);
        await page.GotoAsync("/account/setup");
        await page.GetByLabel("Email").FillAsync("admin@example.org");
        await page.GetByLabel("Your name").FillAsync("Ada Admin");
        await page.GetByLabel("Password").FillAsync("admin passphrase 1");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create the Admin account" }).ClickAsync();

        await page.GetByRole(AriaRole.Link, new() { Name = "Models" }).ClickAsync();
        await Expect(page.Locator("#versions tr[data-version='1'] .kind")).ToHaveTextAsync("ensemble");
        var components = page.Locator("#component-metrics");
        await Expect(components.Locator("tr[data-component='ngram']")).ToBeVisibleAsync();
        await Expect(components.Locator("tr[data-component='encoder']")).ToContainTextAsync("all-MiniLM-L6-v2");
        await Expect(components.Locator("tr[data-component='encoder'] td[data-language='en']")).ToHaveTextAsync(Decimal());
        await Expect(components.Locator("tr[data-component='ngram'] td[data-language='ar']")).ToHaveTextAsync(Decimal());
        await Expect(components.Locator("tr[data-component='encoder'] td[data-language='ar']")).ToHaveTextAsync("—");
        await page.ScreenshotAsync(new() { Path = Shot("models.png"), FullPage = true });

        await page.GetByRole(AriaRole.Link, new() { Name = "Try it" }).ClickAsync();
        await page.GetByLabel("Text").FillAsync("I will find where you live and I will kill you");
        await page.GetByRole(AriaRole.Button, new() { Name = "Moderate" }).ClickAsync();
        var flagged = page.Locator("#scores tbody tr:not([data-action='approve'])").First;
        await Expect(flagged.Locator(".driver")).ToHaveAttributeAsync("data-driver", DriverName());
        await Expect(flagged.Locator(".driver .components")).ToContainTextAsync("encoder");
        await Expect(flagged.Locator(".driver .components")).ToContainTextAsync("ngram");
        await page.ScreenshotAsync(new() { Path = Shot("try-it-ensemble.png"), FullPage = true });
    }

    [GeneratedRegex(@"^0\.\d{3}$")]
    private static partial Regex Decimal();

    [GeneratedRegex("^(ngram|encoder)$")]
    private static partial Regex DriverName();
}
