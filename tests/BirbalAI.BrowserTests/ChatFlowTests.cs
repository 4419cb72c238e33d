using System.Security.Claims;
using BirbalAI.Identity.Users;
using Dapper;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Npgsql;
using static Microsoft.Playwright.Assertions;

namespace BirbalAI.BrowserTests;

/// <summary>Two members in two browsers: what each sees live, and a room moderator's release.</summary>
public sealed class ChatFlowTests : IAsyncLifetime
{
    readonly BrowserApp app = new();

    public ValueTask InitializeAsync() => app.InitializeAsync();
    public ValueTask DisposeAsync() => app.DisposeAsync();

    static string Shot(string name) => Path.Combine(BrowserApp.ScreenshotDirectory, name);

    const string Password = "a long chat passphrase";

    async Task MemberAsync(string email, string name)
    {
        var hasher = app.App.Services.GetRequiredService<IPasswordHasher<UserRow>>();
        await using var connection = await app.App.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync();
        await connection.ExecuteAsync("""
            insert into identity.users (id, email, display_name, role, password_hash, security_stamp)
            values (@Id, @email, @name, 'Member', @Hash, gen_random_uuid())
            """, new { Id = Guid.CreateVersion7(), email, name, Hash = hasher.HashPassword(null!, Password) });
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
    public async Task A_clean_message_appears_live_a_held_one_never_until_the_room_moderator_releases_it()
    {
        // Hold instead of reject, so the starter model's sure verdicts become reviews.
        var thresholds = BirbalAI.Ml.Categories.Default.ToDictionary(c => c, _ => new BirbalAI.Ml.Policy.Thresholds(0.5f, 1f));
        await app.App.Services.GetRequiredService<BirbalAI.Ml.Policy.PolicyStore>().SaveAsync(thresholds, BirbalAI.Ml.Categories.Default, null, "hold, never reject",
            new ClaimsPrincipal(new ClaimsIdentity()), CancellationToken.None);
        await MemberAsync("mira@example.org", "Mira Moderator");
        await MemberAsync("ben@example.org", "Ben Member");
        var mira = await SignInAsync("mira@example.org");
        var ben = await SignInAsync("ben@example.org");

        // Mira makes a room (she moderates it); Ben joins it from the room list.
        await mira.GotoAsync("/chat");
        await mira.GetByLabel("Name").FillAsync("allotment");
        await mira.GetByRole(AriaRole.Button, new() { Name = "Create" }).ClickAsync();
        await Expect(mira.Locator("h1")).ToHaveTextAsync("allotment");
        await Expect(mira.Locator("#chat")).ToHaveAttributeAsync("data-live", "true");
        await ben.GotoAsync("/chat");
        await ben.Locator("#rooms tr", new() { HasText = "allotment" }).GetByRole(AriaRole.Button, new() { Name = "Join" }).ClickAsync();
        await Expect(ben.Locator("h1")).ToHaveTextAsync("allotment");
        await Expect(ben.Locator("#chat")).ToHaveAttributeAsync("data-live", "true");

        // A clean message appears live for the other.
        await mira.GetByLabel("Message (Markdown)").FillAsync("The **tomatoes** are ready, come and pick some");
        await mira.GetByRole(AriaRole.Button, new() { Name = "Send" }).ClickAsync();
        await Expect(ben.Locator("#messages li", new() { HasText = "tomatoes are ready" })).ToBeVisibleAsync();
        await Expect(ben.Locator("#messages li strong")).ToHaveTextAsync("tomatoes");

        // A held one: its author sees it pending; the other never does.
        await ben.GetByLabel("Message (Markdown)").FillAsync("I will find where you live and I will kill you");
        await ben.GetByRole(AriaRole.Button, new() { Name = "Send" }).ClickAsync();
        await Expect(ben.Locator("#messages li[data-status='held']")).ToContainTextAsync("pending review");
        await mira.GetByLabel("Message (Markdown)").FillAsync("anyone bringing a wheelbarrow?");
        await mira.GetByRole(AriaRole.Button, new() { Name = "Send" }).ClickAsync();
        await Expect(ben.Locator("#messages li", new() { HasText = "wheelbarrow" })).ToBeVisibleAsync();   // later than the held one
        await Expect(mira.Locator("#messages li", new() { HasText = "kill you" })).ToHaveCountAsync(0);
        await ben.ScreenshotAsync(new() { Path = Shot("chat-author-held.png"), FullPage = true });

        // Mira releases it on the review page; it appears live in her room tab, at its original place.
        var review = await mira.Context.NewPageAsync();
        await review.GotoAsync(new Uri(app.Address, "/chat/review").ToString());
        await review.ScreenshotAsync(new() { Path = Shot("chat-review.png"), FullPage = true });
        await review.Locator("#held tr", new() { HasText = "kill you" }).GetByRole(AriaRole.Button, new() { Name = "Release" }).ClickAsync();
        await Expect(review.Locator("#result")).ToContainTextAsync("Released");
        var released = mira.Locator("#messages li", new() { HasText = "kill you" });
        await Expect(released).ToBeVisibleAsync();
        await Expect(mira.Locator("#messages li").Nth(1)).ToContainTextAsync("kill you");
        await Expect(ben.Locator("#messages li[data-status='approved']", new() { HasText = "kill you" })).ToBeVisibleAsync();
        await mira.ScreenshotAsync(new() { Path = Shot("chat-room.png"), FullPage = true });

        // Mira edits her message (moderated again; Ben sees the new text live), then deletes it.
        var id = await mira.Locator("#messages li", new() { HasText = "wheelbarrow" }).GetAttributeAsync("data-id");
        var mine = mira.Locator($"#messages li[data-id='{id}']");
        await mine.GetByRole(AriaRole.Button, new() { Name = "Edit" }).ClickAsync();
        await mine.GetByLabel("Edit the message").FillAsync("anyone bringing two wheelbarrows?");
        await mine.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Expect(ben.Locator("#messages li", new() { HasText = "two wheelbarrows" })).ToBeVisibleAsync();
        await Expect(mine).ToContainTextAsync("two wheelbarrows");
        await mine.GetByRole(AriaRole.Button, new() { Name = "Delete" }).ClickAsync();
        await Expect(ben.Locator("#messages li", new() { HasText = "wheelbarrow" })).ToHaveCountAsync(0);
    }
}
