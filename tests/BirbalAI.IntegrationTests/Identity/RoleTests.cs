using System.Net;
using BirbalAI.Contracts.Identity;
using BirbalAI.Testing;

namespace BirbalAI.IntegrationTests.Identity;

/// <summary>One app for the class: each test has its own Admin and users (<see cref="LastAdminTests"/> needs an app with one Admin).</summary>
public sealed class AdminRoleTests(App app) : IClassFixture<App>
{
    /// <summary>Acts on the user's row, found by a search: the list pages, and other tests' users fill its first page.</summary>
    internal static async Task<HttpResponseMessage> ActAsync(HttpClient admin, string email, string handler, Dictionary<string, string>? values = null)
    {
        var users = await admin.GetDocumentAsync($"/admin/identity/users?q={Uri.EscapeDataString(email)}");
        return await admin.SubmitAsync(users, $"tr[data-email='{email}'] form[action*='handler={handler}']", values, pageUrl: "/admin/identity/users");
    }

    [Fact]
    public async Task A_role_change_applies_at_once_and_is_audited()
    {
        var admin = await Accounts.SignedInAsync(app, Roles.Admin);
        var (_, email) = await Accounts.CreateAsync(app, Roles.Member);
        var member = await Accounts.SignInAsync(app, email);
        Assert.Equal(HttpStatusCode.Redirect, (await member.GetAsync("/admin/identity/users", TestContext.Current.CancellationToken)).StatusCode);

        var promoted = await ActAsync(admin, email, "Role", new() { ["Role"] = Roles.Admin });

        Assert.Equal(HttpStatusCode.OK, promoted.StatusCode);
        // The old session carried the old role: it ends, and a new sign-in has the new one.
        var again = await Accounts.SignInAsync(app, email);
        Assert.Equal(HttpStatusCode.OK, (await again.GetAsync("/admin/identity/users", TestContext.Current.CancellationToken)).StatusCode);
        var audit = (await admin.GetDocumentAsync("/admin/identity/audit?Kind=identity.role-changed")).QuerySelector("#audit tbody")!.TextContent;
        Assert.Contains(email, audit);
        Assert.Contains("\"to\": \"Admin\"", audit);
    }

    [Fact]
    public async Task The_user_list_searches_and_pages()
    {
        var admin = await Accounts.SignedInAsync(app, Roles.Admin);
        for (var i = 0; i < 30; i++) await Accounts.CreateAsync(app, Roles.Member, $"crowd{i:00}@example.org");

        var first = await admin.GetDocumentAsync("/admin/identity/users?q=crowd");
        var second = await admin.GetDocumentAsync("/admin/identity/users?q=crowd&pageNumber=2");
        var percent = await admin.GetDocumentAsync("/admin/identity/users?q=%25");

        Assert.Equal(25, first.QuerySelectorAll("tbody tr").Length);
        Assert.Equal(5, second.QuerySelectorAll("tbody tr").Length);
        Assert.Contains("30 users", first.QuerySelector("caption")!.TextContent);
        Assert.Empty(percent.QuerySelectorAll("tbody tr"));   // '%' is searched for, not a wildcard
    }
}

/// <summary>An app of its own: its Admin must be the only one.</summary>
public sealed class LastAdminTests(App app) : IClassFixture<App>
{
    static Task<HttpResponseMessage> ActAsync(HttpClient admin, string email, string handler, Dictionary<string, string>? values = null) =>
        AdminRoleTests.ActAsync(admin, email, handler, values);

    [Fact]
    public async Task Nobody_can_remove_the_last_Admin()
    {
        var (_, email) = await Accounts.CreateAsync(app, Roles.Admin);
        var admin = await Accounts.SignInAsync(app, email);

        var demote = await ActAsync(admin, email, "Role", new() { ["Role"] = Roles.Member });
        var disable = await ActAsync(admin, email, "Disable");

        Assert.True(demote.StatusCode == HttpStatusCode.BadRequest, await demote.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.Contains("is the last Admin", await demote.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.Equal(HttpStatusCode.BadRequest, disable.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/admin/identity/users", TestContext.Current.CancellationToken)).StatusCode);
    }
}
