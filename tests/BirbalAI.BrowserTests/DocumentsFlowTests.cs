using System.Security.Claims;
using System.Text;
using BirbalAI.Identity.Users;
using Dapper;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Npgsql;
using static Microsoft.Playwright.Assertions;

namespace BirbalAI.BrowserTests;

/// <summary>
/// Documents in a browser: a member uploads a file with one toxic paragraph and watches it go from processing to partially
/// held, with the held part marked; an annotator releases it in the review workspace and the document turns approved — live,
/// without a reload, on the document page and in the library. The browser's app is a web replica; the uploads wait until a
/// worker replica starts, so the page is seen processing first and every change reaches it through the Redis backplane.
/// </summary>
public sealed class DocumentsFlowTests : IAsyncLifetime
{
    readonly BrowserApp app = new();
    BirbalAI.Testing.BirbalApp<Program>? worker;

    public ValueTask InitializeAsync()
    {
        app.App.With("role", "web").With("Annotation:UndoSeconds", "0").With("Annotation:PublishIntervalMs", "100");
        return app.InitializeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (worker is not null) await worker.DisposeAsync();
        await app.DisposeAsync();
    }

    static string Shot(string name) => Path.Combine(BrowserApp.ScreenshotDirectory, name);

    const string Password = "a long documents passphrase";
    const string Threat = "I will find where you live and I will kill you";

    async Task PersonAsync(string email, string name, string role)
    {
        var hasher = app.App.Services.GetRequiredService<IPasswordHasher<UserRow>>();
        await using var connection = await app.App.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync();
        await connection.ExecuteAsync("""
            insert into identity.users (id, email, display_name, role, password_hash, security_stamp)
            values (@Id, @email, @name, @role, @Hash, gen_random_uuid())
            """, new { Id = Guid.CreateVersion7(), email, name, role, Hash = hasher.HashPassword(null!, Password) });
    }

    async Task<IPage> SignInAsync(string email)
    {
        var page = await app.Browser.NewPageAsync(app.Address);
        await page.GotoAsync("/account/sign-in");
        await page.GetByLabel("Email").FillAsync(email);
        await page.GetByLabel("Password").FillAsync(Password);
        await page.Keyboard.PressAsync("Enter");
        await Expect(page.Locator(".account .who")).ToBeVisibleAsync();
        return page;
    }

    [Fact]
    public async Task An_upload_with_a_toxic_paragraph_is_held_in_part_and_a_release_in_the_review_workspace_approves_it()
    {
        var thresholds = BirbalAI.Ml.Categories.Default.ToDictionary(c => c, _ => new BirbalAI.Ml.Policy.Thresholds(0.5f, 1f));
        await app.App.Services.GetRequiredService<BirbalAI.Ml.Policy.PolicyStore>().SaveAsync(thresholds, BirbalAI.Ml.Categories.Default, null, "hold, never reject",
            new ClaimsPrincipal(new ClaimsIdentity()), TestContext.Current.CancellationToken);
        await PersonAsync("owen@example.org", "Owen Owner", "Member");
        await PersonAsync("ana@example.org", "Ana Annotator", "Annotator");

        var owen = await SignInAsync("owen@example.org");
        await owen.GotoAsync("/documents/upload");
        await owen.GetByLabel("File", new() { Exact = true }).SetInputFilesAsync(new FilePayload
        {
            Name = "allotment.txt", MimeType = "text/plain",
            Buffer = Encoding.UTF8.GetBytes($"We planted tomatoes and beans this week.\n\n{Threat}\n\nSee you at the market on Saturday."),
        });
        await owen.GetByLabel("Title (the file name if empty)").FillAsync("allotment notes");
        await owen.GetByRole(AriaRole.Button, new() { Name = "Upload" }).ClickAsync();
        await owen.WaitForURLAsync(new System.Text.RegularExpressions.Regex("/documents/[0-9a-f-]{36}$"), new() { Timeout = 30_000 });

        // No worker yet: the document waits, processing, on a page connected live; the library (another tab) shows it too.
        await Expect(owen.Locator("#status")).ToHaveTextAsync("processing");
        await Expect(owen.Locator("#document")).ToHaveAttributeAsync("data-live", "true");
        var library = await owen.Context.NewPageAsync();
        await library.GotoAsync("/documents");
        var row = library.Locator("#documents tr", new() { HasText = "allotment notes" });
        await Expect(row.Locator(".status")).ToHaveTextAsync("processing");
        await Expect(library.Locator("#documents")).ToHaveAttributeAsync("data-live", "true");
        await owen.EvaluateAsync("() => window.stayed = true");   // gone if the page reloads
        await library.EvaluateAsync("() => window.stayed = true");
        await owen.ScreenshotAsync(new() { Path = Shot("documents-processing.png"), FullPage = true });

        worker = app.Replica().With("role", "worker").With("Annotation:UndoSeconds", "0").With("Annotation:PublishIntervalMs", "100");
        _ = worker.Services;   // starts it

        // The page follows the status on its own: processing, then partially held, with the held part marked.
        await Expect(owen.Locator("#status")).ToHaveTextAsync("partially-held", new() { Timeout = 60_000 });
        await Expect(row.Locator(".status")).ToHaveTextAsync("partially-held");
        await Expect(row.Locator(".language")).ToHaveTextAsync("en");
        await Expect(owen.Locator("#processing")).ToHaveCountAsync(0);
        var held = owen.Locator("section.chunk.held");
        await Expect(held).ToHaveCountAsync(1);
        await Expect(held).ToContainTextAsync(Threat);
        await Expect(held.Locator(".verdict")).ToContainTextAsync("held");
        await Expect(owen.Locator("section.chunk.approved")).ToHaveCountAsync(2);
        await owen.ScreenshotAsync(new() { Path = Shot("documents-held.png"), FullPage = true });

        var ana = await SignInAsync("ana@example.org");
        await ana.GotoAsync("/annotation");
        await ana.Locator("#projects tr", new() { HasText = "Moderation review" }).GetByRole(AriaRole.Link, new() { Name = "Label" }).ClickAsync();
        await Expect(ana.Locator("#task-text")).ToHaveTextAsync(Threat, new() { Timeout = 30_000 });
        await Expect(ana.Locator("#context-room")).ToHaveTextAsync("document “allotment notes”");
        if (await ana.Locator(".text-wrap.hidden-blur").CountAsync() == 1) await ana.Keyboard.PressAsync("r");
        await ana.ScreenshotAsync(new() { Path = Shot("documents-review.png"), FullPage = true });
        await ana.Keyboard.PressAsync("Enter");   // no category: release

        await Expect(owen.Locator("#status")).ToHaveTextAsync("approved", new() { Timeout = 30_000 });
        await Expect(owen.Locator("section.chunk.held")).ToHaveCountAsync(0);
        await Expect(owen.Locator("section.chunk.approved")).ToHaveCountAsync(3);
        await Expect(row.Locator(".status")).ToHaveTextAsync("approved");
        Assert.True(await owen.EvaluateAsync<bool>("() => window.stayed === true"), "the document page never reloaded");
        Assert.True(await library.EvaluateAsync<bool>("() => window.stayed === true"), "the library never reloaded");
        await owen.ScreenshotAsync(new() { Path = Shot("documents-approved.png"), FullPage = true });
        await library.ScreenshotAsync(new() { Path = Shot("documents-library.png"), FullPage = true });
    }
}
