using BirbalAI.Platform.Web;
using BirbalAI.Contracts.Identity;
using BirbalAI.Identity.Invitations;
using BirbalAI.Identity.Users;
using Dapper;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Npgsql;

namespace BirbalAI.Identity.Pages.Admin.Identity.Users;

[Authorize(Policy = Policies.Admin)]
sealed class IndexModel(NpgsqlDataSource db, UserAdministration users, InvitationMail mail) : PageModel
{
    public const int PageSize = 25;

    [BindProperty(SupportsGet = true)] public string? Q { get; set; }
    [BindProperty(SupportsGet = true)] public int PageNumber { get; set; } = 1;
    public IReadOnlyList<UserRow> Rows { get; private set; } = [];
    public long Total { get; private set; }
    public int PageCount => (int)Math.Max(1, (Total + PageSize - 1) / PageSize);
    public string? Message { get; private set; }
    public string? Link { get; private set; }

    public Task OnGetAsync(CancellationToken ct) => LoadAsync(ct);

    public Task<IActionResult> OnPostInviteAsync(string? email, string? displayName, string? role, CancellationToken ct) =>
        ChangeAsync(async () =>
        {
            var (user, link) = await users.InviteAsync(User.UserId(), email ?? "", displayName ?? "", role ?? "", ct);
            await Announce(user, "invite", link, $"{user.DisplayName} is invited as {user.Role}.", ct);
        }, ct);

    public Task<IActionResult> OnPostRoleAsync(Guid userId, string? role, CancellationToken ct) =>
        ChangeAsync(async () =>
        {
            await users.ChangeRoleAsync(User.UserId(), userId, role ?? "", ct);
            Message = "Role changed.";
        }, ct);

    public Task<IActionResult> OnPostDisableAsync(Guid userId, bool disabled, CancellationToken ct) =>
        ChangeAsync(async () =>
        {
            await users.SetDisabledAsync(User.UserId(), userId, disabled, ct);
            Message = disabled ? "The user is disabled: their sessions, tokens and keys stop working." : "The user is enabled again.";
        }, ct);

    public Task<IActionResult> OnPostResetAsync(Guid userId, CancellationToken ct) =>
        ChangeAsync(async () =>
        {
            var (user, link) = await users.IssueResetAsync(User.UserId(), userId, ct);
            await Announce(user, user.PasswordHash is null ? "invite" : "reset", link, $"A new link for {user.DisplayName} is ready.", ct);
        }, ct);

    async Task Announce(UserRow user, string kind, string link, string message, CancellationToken ct)
    {
        Message = message;
        if (await mail.TrySendAsync(user.Email, kind, link, ct)) Message += $" It was mailed to {user.Email}.";
        else Link = $"{Request.Scheme}://{Request.Host}{link}";
    }

    async Task<IActionResult> ChangeAsync(Func<Task> change, CancellationToken ct)
    {
        try
        {
            await change();
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
        PageNumber = Math.Max(1, PageNumber);
        var pattern = BirbalAI.Identity.Users.Users.LikePattern(Q);
        await using var connection = await db.OpenConnectionAsync(ct);
        Total = await connection.ExecuteScalarAsync<long>(new CommandDefinition(CountSql, new { pattern }, cancellationToken: ct));
        Rows = (await connection.QueryAsync<UserRow>(new CommandDefinition(ListSql,
            new { pattern, Limit = PageSize, Offset = (PageNumber - 1) * PageSize }, cancellationToken: ct))).AsList();
    }

    const string Where = "where @Pattern::text is null or email ilike @Pattern or display_name ilike @Pattern";
    const string CountSql = $"select count(*) from identity.users {Where}";
    const string ListSql = $"""
        select {BirbalAI.Identity.Users.Users.Columns} from identity.users {Where}
        order by is_service_account, lower(display_name), id
        limit @Limit offset @Offset
        """;
}
