using System.Security.Claims;
using BirbalAI.Identity.Users;
using Dapper;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Npgsql;
using static Microsoft.Playwright.Assertions;

namespace BirbalAI.BrowserTests;

/// <summary>An Admin adds watched words on their page and tries them; in a room they hold, refuse and censor at once.</summary>
public sealed class WatchedWordsFlowTests : IAsyncLifetime
{
    readonly BrowserApp app = new();

    public ValueTask InitializeAsync() => app.InitializeAsync();
    public ValueTask DisposeAsync() => app.DisposeAsync();

    static string Shot(string name) => Path.Combine(BrowserApp.ScreenshotDirectory, name);

    const string Password = "a long chat passphrase";
    const string Garden = "Thanks for the help with the garden today, see you at the market";

    async Task MemberAsync(string email, string name)
    {
        var hasher = app.App.Services.GetRequiredService<IPasswordHasher<UserRow>>();
        await using var connection = await app.App.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync();
        await connection.ExecuteAsync("""
            insert into identity.users (id, email, display_name, role, password_hash, security_stamp)
            values (@Id, @email, @name, 'Member', @Hash, gen_random_uuid())
            """, new { Id = Guid.CreateVersion7(), email, name, Hash = hasher.HashPassword(null!, Password) });
    }

    async Task AddAsync(IPage page, string pattern, string action)
    {
        await page.GetByLabel("Word, phrase or expression").FillAsync(pattern);
        await page.GetByLabel("Action", new() { Exact = true }).SelectOptionAsync(action);
        await page.GetByRole(AriaRole.Button, new() { Name = "Add" }).ClickAsync();
        await Expect(page.Locator("#result")).ToContainTextAsync("Saved as policy version");
        await Expect(page.Locator($"#words tr[data-pattern='{pattern}']")).ToContainTextAsync(action);
    }

    [Fact]
    public async Task A_require_approval_word_holds_a_block_word_refuses_and_a_censor_word_is_masked_for_the_room()
    {
        var admin = await app.Browser.NewPageAsync(app.Address);
        await admin.GotoAsync("/account/setup");
        await admin.GetByLabel("Email").FillAsync("admin@example.org");
        await admin.GetByLabel("Your name").FillAsync("Ada Admin");
        await admin.GetByLabel("Password").FillAsync("admin passphrase 1");
        await admin.GetByRole(AriaRole.Button, new() { Name = "Create the Admin account" }).ClickAsync();

        // The admin adds a "require approval" word and tries a text with it, spelled out to dodge it.
        await admin.GetByRole(AriaRole.Link, new() { Name = "Watched words" }).ClickAsync();
        await AddAsync(admin, "pumpkin", "require-approval");
        await admin.GetByLabel("Text", new() { Exact = true }).FillAsync($"{Garden}, bring the p u m p k i n");
        await admin.GetByRole(AriaRole.Button, new() { Name = "Try it" }).ClickAsync();
        await Expect(admin.Locator("#try-status")).ToHaveTextAsync("held");
        await Expect(admin.Locator("#matches")).ToContainTextAsync("watched word: pumpkin");
        await admin.ScreenshotAsync(new() { Path = Shot("watched-words.png"), FullPage = true });
        await AddAsync(admin, "marrow", "block");
        await AddAsync(admin, "parsnip", "censor");

        // In a room: Ben's held message is his alone, the refused one says why, the censored one reaches Ada masked.
        await MemberAsync("ben@example.org", "Ben Member");
        await admin.GotoAsync("/chat");
        await admin.GetByLabel("Name").FillAsync("allotment");
        await admin.GetByRole(AriaRole.Button, new() { Name = "Create" }).ClickAsync();
        await Expect(admin.Locator("#chat")).ToHaveAttributeAsync("data-live", "true");
        var ben = await app.Browser.NewPageAsync(app.Address);
        await ben.GotoAsync("/account/sign-in");
        await ben.GetByLabel("Email").FillAsync("ben@example.org");
        await ben.GetByLabel("Password").FillAsync(Password);
        await ben.Keyboard.PressAsync("Enter");
        await Expect(ben.Locator(".account .who")).ToBeVisibleAsync();
        await ben.GotoAsync("/chat");
        await ben.Locator("#rooms tr", new() { HasText = "allotment" }).GetByRole(AriaRole.Button, new() { Name = "Join" }).ClickAsync();
        await Expect(ben.Locator("#chat")).ToHaveAttributeAsync("data-live", "true");

        await ben.GetByLabel("Message (Markdown)").FillAsync("who has a PUMPKIN for the show?");
        await ben.GetByRole(AriaRole.Button, new() { Name = "Send" }).ClickAsync();
        await Expect(ben.Locator("#messages li[data-status='held']")).ToContainTextAsync("pending review");
        await ben.GetByLabel("Message (Markdown)").FillAsync("my m4rrow is the biggest");
        await ben.GetByRole(AriaRole.Button, new() { Name = "Send" }).ClickAsync();
        await Expect(ben.Locator("#messages li[data-status='rejected']")).ToContainTextAsync("watched word: marrow");
        await ben.GetByLabel("Message (Markdown)").FillAsync("the parsnip soup is on the stove");
        await ben.GetByRole(AriaRole.Button, new() { Name = "Send" }).ClickAsync();

        await Expect(admin.Locator("#messages li", new() { HasText = "soup is on the stove" })).ToContainTextAsync("the ■■■■■■■ soup");
        await Expect(admin.Locator("#messages")).Not.ToContainTextAsync("parsnip");
        await Expect(admin.Locator("#messages")).Not.ToContainTextAsync("PUMPKIN");
        await Expect(admin.Locator("#messages")).Not.ToContainTextAsync("m4rrow");
        await admin.ReloadAsync();
        await Expect(admin.Locator("#messages li", new() { HasText = "soup is on the stove" })).ToContainTextAsync("the ■■■■■■■ soup");
        await ben.ScreenshotAsync(new() { Path = Shot("watched-words-chat.png"), FullPage = true });
    }
}
