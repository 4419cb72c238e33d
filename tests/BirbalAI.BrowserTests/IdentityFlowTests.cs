using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace BirbalAI.BrowserTests;

/// <summary>The whole first day of an installation, in Debian's chromium, by keyboard and mouse.</summary>
public sealed class IdentityFlowTests : IAsyncLifetime
{
    readonly BrowserApp app = new();

    public ValueTask InitializeAsync() => app.InitializeAsync();
    public ValueTask DisposeAsync() => app.DisposeAsync();

    static string Shot(string name) => Path.Combine(BrowserApp.ScreenshotDirectory, name);

    [Fact]
    public async Task Setup_sign_in_invite_accept_and_the_member_stays_out_of_the_admin_pages()
    {
        var admin = await app.Browser.NewPageAsync(app.Address);

        // First run: the sign-in page leads to setup.
        await admin.GotoAsync("/account/sign-in");
        await Expect(admin).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/account/setup$"));
        await admin.GetByLabel("Email").FillAsync("founder@example.org");
        await admin.GetByLabel("Your name").FillAsync("Founder");
        await admin.GetByLabel("Password").FillAsync("founder passphrase 1");
        await admin.ScreenshotAsync(new() { Path = Shot("setup.png") });
        await admin.GetByRole(AriaRole.Button, new() { Name = "Create the Admin account" }).ClickAsync();
        await Expect(admin.GetByRole(AriaRole.Heading, new() { Name = "Users" })).ToBeVisibleAsync();

        // Sign out, then back in with the password just chosen (Enter submits, as a keyboard user would).
        await admin.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await admin.GotoAsync("/account/sign-in");
        await admin.GetByLabel("Email").FillAsync("founder@example.org");
        await admin.GetByLabel("Password").FillAsync("founder passphrase 1");
        await admin.Keyboard.PressAsync("Enter");
        await Expect(admin.Locator(".account .who")).ToHaveTextAsync("Founder");

        // Invite a member; the link is shown because no mail server is configured.
        await admin.GotoAsync("/admin/identity/users");
        await admin.GetByLabel("Email").FillAsync("member@example.org");
        await admin.GetByLabel("Name", new() { Exact = true }).FillAsync("Mina Member");
        await admin.GetByRole(AriaRole.Button, new() { Name = "Invite" }).ClickAsync();
        var link = await admin.Locator("#link").InputValueAsync();
        await admin.ScreenshotAsync(new() { Path = Shot("users-invited.png"), FullPage = true });
        Assert.Contains("/account/accept?token=", link);

        // The invited person, in a browser of their own, sets a password and is signed in.
        var member = await app.Browser.NewPageAsync(app.Address);
        await member.GotoAsync(new Uri(link).PathAndQuery);
        await member.GetByLabel("New password").FillAsync("member passphrase 2");
        await member.GetByLabel("Repeat it").FillAsync("member passphrase 2");
        await member.GetByRole(AriaRole.Button, new() { Name = "Set password and sign in" }).ClickAsync();
        await Expect(member.Locator(".account .who")).ToHaveTextAsync("Mina Member");
        await Expect(member.Locator("nav[aria-label='Admin portal']")).Not.ToContainTextAsync("Users");

        // ...and cannot open the admin pages.
        foreach (var path in new[] { "/admin/identity/users", "/admin/identity/api-keys", "/admin/identity/audit", "/hangfire" })
        {
            await member.GotoAsync(path);
            await Expect(member.GetByRole(AriaRole.Heading, new() { Name = "Not allowed" })).ToBeVisibleAsync();
        }
        await member.ScreenshotAsync(new() { Path = Shot("member-denied.png") });

        // The Admin sees all of it in the audit log.
        await admin.GotoAsync("/admin/identity/audit");
        var audit = admin.Locator("#audit tbody");
        foreach (var kind in new[] { "identity.setup", "identity.sign-out", "identity.sign-in", "identity.invited", "identity.invitation-accepted" })
            await Expect(audit).ToContainTextAsync(kind);
        await Expect(audit).ToContainTextAsync("member@example.org");
        await admin.ScreenshotAsync(new() { Path = Shot("audit.png"), FullPage = true });

        // The starter model is in production, its metrics marked as what they are.
        await admin.GetByRole(AriaRole.Link, new() { Name = "Models" }).ClickAsync();
        await Expect(admin.Locator("#versions")).ToContainTextAsync("starter corpus");
        await Expect(admin.Locator("#metrics-note")).ToContainTextAsync("a held-out tenth of the examples the project wrote itself");
        await admin.ScreenshotAsync(new() { Path = Shot("models.png"), FullPage = true });
    }
}
