using BirbalAI.Contracts.Identity;
using Dapper;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Npgsql;

namespace BirbalAI.Identity.Pages.Admin.Identity.Audit;

[Authorize(Policy = Policies.Admin)]
sealed class IndexModel(NpgsqlDataSource db) : PageModel
{
    public const int PageSize = 50;

    [BindProperty(SupportsGet = true, Name = "User")] public string? UserEmail { get; set; }
    [BindProperty(SupportsGet = true)] public string? Kind { get; set; }
    [BindProperty(SupportsGet = true)] public DateTime? From { get; set; }
    [BindProperty(SupportsGet = true)] public DateTime? To { get; set; }
    /// <summary>Keyset paging: the entries after this one in (time, id) order, newest first.</summary>
    [BindProperty(SupportsGet = true)] public Guid? Before { get; set; }

    public IReadOnlyList<Row> Rows { get; private set; } = [];
    public IReadOnlyList<string> Kinds { get; private set; } = [];
    public Guid? NextBefore { get; private set; }
    public string OlderLink => QueryString.Create(new Dictionary<string, string?>
    {
        ["User"] = UserEmail, ["Kind"] = Kind, ["From"] = From?.ToString("O"), ["To"] = To?.ToString("O"), ["Before"] = NextBefore?.ToString(),
    }.Where(p => !string.IsNullOrEmpty(p.Value))).ToString();

    public sealed record Row(Guid Id, DateTime At, string Kind, string? Actor, string? Subject, string Details, string? Ip);

    public async Task OnGetAsync(CancellationToken ct)
    {
        if (UserEmail?.Length > 254 || Kind?.Length > 100)
        {
            ModelState.AddModelError("", "Filters: user at most 254 characters, kind at most 100.");
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }
        if (!ModelState.IsValid)
        {
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }
        await using var connection = await db.OpenConnectionAsync(ct);
        Kinds = (await connection.QueryAsync<string>(new CommandDefinition(
            "select distinct kind from identity.audit_log order by kind", cancellationToken: ct))).AsList();
        var rows = (await connection.QueryAsync<Row>(new CommandDefinition(ListSql, new
        {
            User = string.IsNullOrWhiteSpace(UserEmail) ? null : UserEmail.Trim().ToLowerInvariant(),
            Kind = string.IsNullOrWhiteSpace(Kind) ? null : Kind,
            From = From is { } f ? DateTime.SpecifyKind(f, DateTimeKind.Utc) : (DateTime?)null,
            To = To is { } t ? DateTime.SpecifyKind(t, DateTimeKind.Utc) : (DateTime?)null,
            Before,
            Limit = PageSize + 1,
        }, cancellationToken: ct))).AsList();
        NextBefore = rows.Count > PageSize ? rows[PageSize - 1].Id : null;
        Rows = rows.Take(PageSize).ToList();
    }

    // "By a user" matches what they did and what was done to them (the subject is often their email).
    const string ListSql = """
        select a.id, a.at, a.kind, u.email as actor, a.subject, a.details::text as details, a.ip
        from identity.audit_log a left join identity.users u on u.id = a.actor_id
        where (@User::text is null or lower(u.email) = @User or lower(a.subject) = @User)
          and (@Kind::text is null or a.kind = @Kind)
          and (@From::timestamptz is null or a.at >= @From)
          and (@To::timestamptz is null or a.at <= @To)
          and (@Before::uuid is null or (a.at, a.id) < (select b.at, b.id from identity.audit_log b where b.id = @Before))
        order by a.at desc, a.id desc
        limit @Limit
        """;
}
