using BirbalAI.Platform.Web;
using BirbalAI.Contracts.Identity;
using BirbalAI.Identity.Users;
using Dapper;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Npgsql;

namespace BirbalAI.Identity.Pages.Admin.Identity.ApiKeys;

[Authorize(Policy = Policies.Admin)]
sealed class IndexModel(NpgsqlDataSource db, UserAdministration users) : PageModel
{
    public IReadOnlyList<KeyRow> Keys { get; private set; } = [];
    public IReadOnlyList<Person> People { get; private set; } = [];
    public string? Message { get; private set; }
    public string? NewKey { get; private set; }

    public sealed record KeyRow(Guid Id, string Prefix, string Name, string UserName, string RoleCap, DateTime CreatedAt, DateTime? LastUsedAt, DateTime? RevokedAt);
    public sealed record Person(Guid Id, string DisplayName, string Email);

    public Task OnGetAsync(CancellationToken ct) => LoadAsync(ct);

    public async Task<IActionResult> OnPostCreateAsync(string? owner, string? accountName, string? name, string? roleCap, CancellationToken ct)
    {
        try
        {
            Guid userId;
            if (owner == "service") userId = (await users.CreateServiceAccountAsync(User.UserId(), accountName ?? "", roleCap ?? "", ct)).Id;
            else if (!Guid.TryParse(owner, out userId)) throw new IdentityRuleException("For: choose a person or a new service account.");
            var (_, key) = await users.CreateKeyAsync(User.UserId(), userId, name ?? "", roleCap ?? "", ct);
            NewKey = key;
            Message = name!.Trim();
        }
        catch (IdentityRuleException e)
        {
            this.Refuse(e.Message);
        }
        await LoadAsync(ct);
        return Page();
    }

    public async Task<IActionResult> OnPostRevokeAsync(Guid keyId, CancellationToken ct)
    {
        try
        {
            await users.RevokeKeyAsync(User.UserId(), keyId, ct);
            Message = "The key is revoked: requests with it now get 401.";
        }
        catch (IdentityRuleException e)
        {
            this.Refuse(e.Message);
        }
        await LoadAsync(ct);
        return Page();
    }

    async Task LoadAsync(CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        Keys = (await connection.QueryAsync<KeyRow>(new CommandDefinition(KeysSql, cancellationToken: ct))).AsList();
        People = (await connection.QueryAsync<Person>(new CommandDefinition(PeopleSql, cancellationToken: ct))).AsList();
    }

    const string KeysSql = """
        select k.id, k.prefix, k.name, u.display_name as user_name, k.role_cap, k.created_at, k.last_used_at, k.revoked_at
        from identity.api_keys k join identity.users u on u.id = k.user_id
        order by k.revoked_at is not null, k.created_at desc
        """;

    const string PeopleSql = """
        select id, display_name, email from identity.users where disabled_at is null order by is_service_account, lower(display_name)
        """;
}
