using AngleSharp.Dom;
using BirbalAI.Contracts.Identity;
using BirbalAI.Testing;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace BirbalAI.IntegrationTests.Identity;

/// <summary>One app for the class: each test writes and reads its own kinds of entry.</summary>
public sealed class AuditTests(App app) : IClassFixture<App>
{

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    static IReadOnlyList<string> Subjects(IParentNode page) =>
        page.QuerySelectorAll("#audit tbody tr").Select(r => r.Children[3].TextContent).ToList();

    [Fact]
    public async Task Any_module_writes_entries_that_the_audit_page_pages_and_filters()
    {
        var log = app.Services.GetRequiredService<IAuditLog>();
        var (actor, actorEmail) = await Accounts.CreateAsync(app, Roles.Member);
        for (var i = 0; i < 60; i++)
            await log.RecordAsync(new AuditEntry("chat.message-removed", actor, $"message {i:00}"), null, Ct);
        var admin = await Accounts.SignedInAsync(app, Roles.Admin);

        var first = await admin.GetDocumentAsync("/admin/identity/audit?Kind=chat.message-removed");
        var older = first.QuerySelector("#older")!.GetAttribute("href")!;
        var second = await admin.GetDocumentAsync("/admin/identity/audit" + older);
        var byUser = await admin.GetDocumentAsync($"/admin/identity/audit?User={actorEmail}");
        var future = await admin.GetDocumentAsync($"/admin/identity/audit?From={DateTime.UtcNow.AddDays(1):yyyy-MM-ddTHH:mm}");

        Assert.Equal(50, Subjects(first).Count);
        Assert.Equal("message 59", Subjects(first)[0]);   // newest first
        Assert.Equal(Enumerable.Range(0, 10).Reverse().Select(i => $"message {i:00}"), Subjects(second));
        Assert.Null(second.QuerySelector("#older"));
        Assert.Contains("Kind=chat.message-removed", older);   // the filters travel with the page
        Assert.Equal(50, Subjects(byUser).Count);
        Assert.Empty(Subjects(future));
    }

    [Fact]
    public async Task An_entry_written_in_a_rolled_back_transaction_disappears_with_it()
    {
        var log = app.Services.GetRequiredService<IAuditLog>();
        await using var connection = await app.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync(Ct);

        await using (var tx = await connection.BeginTransactionAsync(Ct))
        {
            await log.RecordAsync(new AuditEntry("test.rolled-back", null, "never"), tx, Ct);
            await tx.RollbackAsync(Ct);
        }
        await using (var tx = await connection.BeginTransactionAsync(Ct))
        {
            await log.RecordAsync(new AuditEntry("test.committed", null, "kept"), tx, Ct);
            await tx.CommitAsync(Ct);
        }

        var kinds = await connection.QueryAsync<string>("select kind from identity.audit_log where kind like 'test.%'");
        Assert.Equal(["test.committed"], kinds);
    }
}
