using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace BirbalAI.BrowserTests;

/// <summary>
/// The loop from labels to a live model, as an Admin clicks it: a snapshot, a training job followed to its end, the new version's
/// page with its plots, a comparison with production, the promotion, and Try it answering with the new version.
/// </summary>
public sealed partial class TrainingFlowTests : IAsyncLifetime
{
    readonly BrowserApp app = new();

    public ValueTask InitializeAsync() => app.InitializeAsync();
    public ValueTask DisposeAsync() => app.DisposeAsync();

    static string Shot(string name) => Path.Combine(BrowserApp.ScreenshotDirectory, name);

    static readonly string[] Threats = ["I will find you and hurt you", "you are dead when I see you", "I will kill you tonight", "watch your back, I will hurt you"];
    static readonly string[] Everyday = ["see you at the market on Saturday", "thanks for the help with the garden", "the bus was late again", "who brings snacks on Friday"];

    /// <summary>Labelled examples as reviewers' decisions or an import bring them (both tested on their own): 10 variants of each line.</summary>
    static string Labels() => string.Concat(Enumerable.Range(0, 10).SelectMany(i =>
        Threats.Select(t => $"{{\"text\": \"{t} {i}\", \"labels\": [\"violence\", \"harassment/threatening\"], \"language\": \"en\"}}\n")
            .Concat(Everyday.Select(t => $"{{\"text\": \"{t} {i}\", \"labels\": [], \"language\": \"en\"}}\n"))));

    [Fact]
    public async Task An_admin_trains_a_version_follows_it_to_the_end_compares_it_with_production_and_promotes_it()
    {
        var page = await app.Browser.NewPageAsync(app.Address);
        await page.GotoAsync("/account/setup");
        await page.GetByLabel("Email").FillAsync("admin@example.org");
        await page.GetByLabel("Your name").FillAsync("Ada Admin");
        await page.GetByLabel("Password").FillAsync("admin passphrase 1");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create the Admin account" }).ClickAsync();
        var imported = await page.APIRequest.PostAsync("/api/ml/datasets/import?format=jsonl&name=seed", new()
        {
            DataString = Labels(),
            Headers = new Dictionary<string, string> { ["Origin"] = app.Address.GetLeftPart(UriPartial.Authority) },   // the site's own page, as its scripts send it
        });
        Assert.True(imported.Ok, await imported.TextAsync());

        await page.GetByRole(AriaRole.Link, new() { Name = "Datasets" }).ClickAsync();
        await page.Locator("#take-snapshot button").ClickAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "Training" }).ClickAsync();
        await page.GetByLabel("Epochs").FillAsync("8");
        await page.GetByLabel("Buckets").FillAsync("20000");
        await page.GetByRole(AriaRole.Button, new() { Name = "Start training" }).ClickAsync();

        // The job page follows the job by itself (it reloads while the job runs) until the version is registered.
        await Expect(page).ToHaveURLAsync(JobPage());
        await Expect(page.Locator("#status")).ToHaveTextAsync("succeeded", new() { Timeout = 120_000 });
        await Expect(page.Locator("#epoch")).ToContainTextAsync("of 8");
        await page.ScreenshotAsync(new() { Path = Shot("training-job.png"), FullPage = true });
        await page.Locator("#version a").ClickAsync();

        await Expect(page.Locator("h1")).ToContainTextAsync("v2");
        foreach (var plot in new[] { "#pr-curves", "#reliability", "#language-f1", "#histogram-violence" })
            await Expect(page.Locator(plot)).ToBeVisibleAsync();
        await page.Locator("#compare").SelectOptionAsync("1");
        await page.GetByRole(AriaRole.Button, new() { Name = "Compare" }).ClickAsync();
        await Expect(page.Locator("#compare-summary")).ToContainTextAsync("v2 against v1");
        await Expect(page.Locator("#comparison tbody tr").First).ToBeVisibleAsync();
        await page.ScreenshotAsync(new() { Path = Shot("version-compare.png"), FullPage = true });

        await page.Locator("#promote button").ClickAsync();
        await Expect(page.Locator("#result")).ToContainTextAsync("v2");
        await page.GetByRole(AriaRole.Link, new() { Name = "Try it" }).ClickAsync();
        await page.GetByLabel("Text").FillAsync("I will find you and hurt you");
        await page.GetByRole(AriaRole.Button, new() { Name = "Moderate" }).ClickAsync();
        await Expect(page.Locator("#verdict-model")).ToHaveTextAsync("birbal-v2");
    }

    [GeneratedRegex("/admin/ml/training/[0-9]+$")]
    private static partial Regex JobPage();
}
