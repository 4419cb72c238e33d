using System.Security.Claims;
using BirbalAI.Identity.Users;
using Dapper;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Npgsql;
using static Microsoft.Playwright.Assertions;

namespace BirbalAI.BrowserTests;

/// <summary>
/// The review workspace in a browser: an annotator decides three held chat messages with the keyboard only (severe ones
/// blurred until revealed), a released one appears live in the room, and a reviewer takes a second look (accept, correct);
/// two annotators label a project whose page shows their agreement, and an Admin imports more lines into it there.
/// </summary>
public sealed class AnnotationFlowTests : IAsyncLifetime
{
    readonly BrowserApp app = new();

    public ValueTask InitializeAsync()
    {
        app.App.With("Annotation:UndoSeconds", "1").With("Annotation:PublishIntervalMs", "100");
        return app.InitializeAsync();
    }

    public ValueTask DisposeAsync() => app.DisposeAsync();

    static string Shot(string name) => Path.Combine(BrowserApp.ScreenshotDirectory, name);

    const string Password = "a long review passphrase";

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
    public async Task An_annotator_decides_held_messages_with_the_keyboard_and_a_reviewer_accepts_and_corrects()
    {
        var thresholds = BirbalAI.Ml.Categories.Default.ToDictionary(c => c, _ => new BirbalAI.Ml.Policy.Thresholds(0.5f, 1f));
        await app.App.Services.GetRequiredService<BirbalAI.Ml.Policy.PolicyStore>().SaveAsync(thresholds, BirbalAI.Ml.Categories.Default, null, "hold, never reject",
            new ClaimsPrincipal(new ClaimsIdentity()), TestContext.Current.CancellationToken);
        await using (var connection = await app.App.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync(TestContext.Current.CancellationToken))
            await connection.ExecuteAsync("update annotation.projects set second_review_share = 1 where kind = 'moderation'");   // every decision gets a second look
        await PersonAsync("mira@example.org", "Mira Moderator", "Member");
        await PersonAsync("ben@example.org", "Ben Member", "Member");
        await PersonAsync("ana@example.org", "Ana Annotator", "Annotator");
        await PersonAsync("rui@example.org", "Rui Reviewer", "Annotator");
        var mira = await SignInAsync("mira@example.org");
        var ben = await SignInAsync("ben@example.org");

        await mira.GotoAsync("/chat");
        await mira.GetByLabel("Name").FillAsync("allotment");
        await mira.GetByRole(AriaRole.Button, new() { Name = "Create" }).ClickAsync();
        await Expect(mira.Locator("#chat")).ToHaveAttributeAsync("data-live", "true");
        await ben.GotoAsync("/chat");
        await ben.Locator("#rooms tr", new() { HasText = "allotment" }).GetByRole(AriaRole.Button, new() { Name = "Join" }).ClickAsync();
        await Expect(ben.Locator("#chat")).ToHaveAttributeAsync("data-live", "true");
        await mira.GetByLabel("Message (Markdown)").FillAsync("the beans are up");
        await mira.GetByRole(AriaRole.Button, new() { Name = "Send" }).ClickAsync();
        await Expect(ben.Locator("#messages li", new() { HasText = "the beans are up" })).ToBeVisibleAsync(new() { Timeout = 30_000 });   // the model is warm
        string[] threats = ["I will find where you live and I will kill you", "I know where you live and I will hurt you", "I will kill you and your family"];
        foreach (var threat in threats)
        {
            await ben.GetByLabel("Message (Markdown)").FillAsync(threat);
            await ben.GetByRole(AriaRole.Button, new() { Name = "Send" }).ClickAsync();
            await Expect(ben.Locator("#messages li[data-status='held']", new() { HasText = threat })).ToBeVisibleAsync(new() { Timeout = 15_000 });
        }

        // Ana labels the three with the keyboard only: the first threat is released (no category), the others removed.
        var ana = await SignInAsync("ana@example.org");
        await ana.GotoAsync("/annotation");
        await ana.Locator("#projects tr", new() { HasText = "Moderation review" }).GetByRole(AriaRole.Link, new() { Name = "Label" }).ClickAsync();
        var decided = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var text = ana.Locator("#task-text");
            await Expect(text).Not.ToBeEmptyAsync();
            var shown = await text.TextContentAsync() ?? "";
            Assert.DoesNotContain(shown, decided);
            Assert.Contains(shown, threats);
            await Expect(ana.Locator("#context-room")).ToHaveTextAsync("allotment");
            if (await ana.Locator(".text-wrap.hidden-blur").CountAsync() == 1)
            {
                if (i == 0) await ana.ScreenshotAsync(new() { Path = Shot("annotation-blurred.png"), FullPage = true });
                await ana.Keyboard.PressAsync("r");
                await Expect(ana.Locator(".text-wrap.hidden-blur")).ToHaveCountAsync(0);
            }
            else Assert.True(i > 0, "the most severe task comes first, blurred");
            if (shown != threats[0])
            {
                await ana.Keyboard.PressAsync("2");   // harassment/threatening
                await Expect(ana.Locator(".category[data-category='harassment/threatening']")).ToHaveAttributeAsync("aria-pressed", "true");
            }
            if (i == 0) await ana.ScreenshotAsync(new() { Path = Shot("annotation-label.png"), FullPage = true });
            await ana.Keyboard.PressAsync("Enter");
            decided.Add(shown);
            if (i < 2) await Expect(ana.Locator("#task-text")).Not.ToHaveTextAsync(shown);
        }
        await Expect(ana.Locator("#task")).ToBeHiddenAsync();   // nothing left
        await ana.Keyboard.PressAsync("?");
        await Expect(ana.Locator("#keys")).ToBeVisibleAsync();

        // Released live in the room; the removed ones never appear.
        await Expect(mira.Locator("#messages li", new() { HasText = threats[0] })).ToBeVisibleAsync(new() { Timeout = 20_000 });
        await Expect(mira.Locator("#messages li", new() { HasText = threats[1] })).ToHaveCountAsync(0);

        // Rui takes a second look: accepts one decision, corrects another.
        var rui = await SignInAsync("rui@example.org");
        await rui.GotoAsync("/annotation");
        await rui.Locator("#projects tr", new() { HasText = "Moderation review" }).GetByRole(AriaRole.Link, new() { Name = "Review" }).ClickAsync();
        await Expect(rui.Locator("#review tbody tr")).ToHaveCountAsync(3);
        await rui.ScreenshotAsync(new() { Path = Shot("annotation-review.png"), FullPage = true });
        await rui.Locator("#review tr", new() { HasText = threats[1] }).GetByRole(AriaRole.Button, new() { Name = "Accept" }).ClickAsync();
        await Expect(rui.Locator("#result")).ToHaveTextAsync("Accepted.");
        var row = rui.Locator("#review tr", new() { HasText = threats[2] });
        await row.GetByLabel("violence", new() { Exact = true }).CheckAsync();
        await row.GetByRole(AriaRole.Button, new() { Name = "Correct" }).ClickAsync();
        await Expect(rui.Locator("#result")).ToHaveTextAsync("Corrected and accepted.");
        await Expect(rui.Locator("#review tbody tr")).ToHaveCountAsync(1);

        await rui.GotoAsync(new Uri(app.Address, "/annotation").ToString());
        await rui.Locator("#projects tr", new() { HasText = "Moderation review" }).GetByRole(AriaRole.Link, new() { Name = "Project" }).ClickAsync();
        await Expect(rui.Locator("#progress")).ToContainTextAsync("Done");
        await Expect(rui.Locator("#annotators")).ToContainTextAsync("Ana Annotator");
        await rui.ScreenshotAsync(new() { Path = Shot("annotation-project.png"), FullPage = true });

        // A labelling project with overlap 2: Ana and Rui label the same three lines with the keyboard (Ana gives one a
        // severity with Shift), and the project page shows their agreement.
        var project = Guid.CreateVersion7();
        await using (var connection = await app.App.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync(TestContext.Current.CancellationToken))
        {
            await connection.ExecuteAsync("""
                insert into annotation.projects (id, name, kind, categories, overlap, reservation_minutes, guidelines, open_to_annotators)
                select @project, 'Forum sample', 'labelling', categories, 2, 15, 'Tick every category that applies.', false from annotation.projects where kind = 'moderation';
                insert into annotation.project_members (project_id, user_id) select @project, id from identity.users where email in ('ana@example.org', 'rui@example.org');
                insert into annotation.tasks (id, project_id, source, kind, text, language, created_at)
                select gen_random_uuid(), @project, 'import', 'item', t.text, 'en', now() - make_interval(mins => 10 - t.n)
                from (values (1, 'you people are vermin'), (2, 'lovely weather for the fete'), (3, 'nobody wants you here')) as t (n, text);
                """, new { project });
        }
        async Task LabelAsync(IPage who, params bool[] harassment)
        {
            await who.GotoAsync(new Uri(app.Address, $"/annotation/projects/{project}/label").ToString());
            for (var i = 0; i < harassment.Length; i++)
            {
                await Expect(who.Locator("#task-text")).Not.ToBeEmptyAsync();
                var shown = await who.Locator("#task-text").TextContentAsync();
                if (harassment[i])
                {
                    await who.Keyboard.PressAsync("1");   // harassment
                    if (who == ana && i == 0)
                    {
                        await who.Keyboard.PressAsync("Shift+1");   // its severity: 1 low
                        await Expect(who.Locator(".category[data-category='harassment']")).ToHaveAttributeAsync("data-severity", "1");
                    }
                }
                await who.Keyboard.PressAsync("Enter");
                if (i < harassment.Length - 1) await Expect(who.Locator("#task-text")).Not.ToHaveTextAsync(shown!);
            }
            await Expect(who.Locator("#task")).ToBeHiddenAsync();
        }
        await LabelAsync(ana, true, false, true);
        await LabelAsync(rui, true, false, false);

        // harassment per line: [yes, yes], [no, no], [yes, no] -> alpha 1 - 2 / 3.6 = 0.44, two of three pairs agree.
        await rui.GotoAsync(new Uri(app.Address, $"/annotation/projects/{project}").ToString());
        var agreement = rui.Locator("#agreement tr[data-category='harassment']");
        for (var deadline = DateTime.UtcNow.AddSeconds(30); await agreement.CountAsync() == 0 || await agreement.Locator(".tasks").TextContentAsync() != "3"; )
        {
            Assert.True(DateTime.UtcNow < deadline, "the six labels are published and counted");
            await Task.Delay(200, TestContext.Current.CancellationToken);
            await rui.ReloadAsync();
        }
        await Expect(agreement.Locator(".alpha")).ToHaveTextAsync("0.44");
        await Expect(agreement.Locator(".pairwise")).ToHaveTextAsync("0.67");
        await rui.ScreenshotAsync(new() { Path = Shot("annotation-agreement.png"), FullPage = true });
        await using (var connection = await app.App.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync(TestContext.Current.CancellationToken))
            Assert.Equal("{\"harassment\": 1}", await connection.ExecuteScalarAsync<string>("""
                select n.severities::text from annotation.annotations n join annotation.tasks t on t.id = n.task_id
                where t.project_id = @project and t.text = 'you people are vermin' and n.user_name = 'Ana Annotator'
                """, new { project }));

        // An Admin imports two more lines into it on the project page and sees how many came in.
        await PersonAsync("ada@example.org", "Ada Admin", "Admin");
        var ada = await SignInAsync("ada@example.org");
        await ada.GotoAsync(new Uri(app.Address, $"/annotation/projects/{project}").ToString());
        await ada.GetByLabel("File to import").SetInputFilesAsync(new FilePayload
        {
            Name = "bad.jsonl", MimeType = "application/x-ndjson", Buffer = System.Text.Encoding.UTF8.GetBytes("{\"text\": \"fine\"}\n{\"text\": \"\"}\n"),
        });
        await ada.GetByRole(AriaRole.Button, new() { Name = "Import", Exact = true }).ClickAsync();
        await Expect(ada.Locator("[role=alert]")).ToContainTextAsync("1 bad row in bad.jsonl; nothing was imported.");
        await Expect(ada.Locator("#import-errors tr[data-line='2']")).ToContainTextAsync("text is missing or empty");
        await ada.Locator("#import-export").ScreenshotAsync(new() { Path = Shot("annotation-import-refused.png") });
        await ada.GetByLabel("File to import").SetInputFilesAsync(new FilePayload
        {
            Name = "more.jsonl", MimeType = "application/x-ndjson",
            Buffer = System.Text.Encoding.UTF8.GetBytes("{\"text\": \"see you at the fete\"}\n{\"text\": \"go back where you came from\", \"language\": \"en\"}\n"),
        });
        await ada.GetByLabel("Format").SelectOptionAsync("jsonl");
        await ada.GetByRole(AriaRole.Button, new() { Name = "Import", Exact = true }).ClickAsync();
        await Expect(ada.Locator("#result")).ToHaveTextAsync("2 imported from more.jsonl.");
        await Expect(ada.Locator("#export a")).ToHaveCountAsync(3);
        await ada.ScreenshotAsync(new() { Path = Shot("annotation-import.png"), FullPage = true });
    }
}
