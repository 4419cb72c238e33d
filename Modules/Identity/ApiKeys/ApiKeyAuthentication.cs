using System.Text.Encodings.Web;
using BirbalAI.Contracts.Identity;
using BirbalAI.Identity.Users;
using Dapper;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace BirbalAI.Identity.ApiKeys;

/// <summary>
/// `Authorization: Bearer bk_…`: the key is looked up by its hash; it acts as its user with the lesser of
/// the user's role and the key's cap. A revoked key, or a key of a disabled user, is refused.
/// </summary>
sealed class ApiKeyAuthentication(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder,
    NpgsqlDataSource db) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string Prefix = "bk_";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer " + Prefix, StringComparison.Ordinal)) return AuthenticateResult.NoResult();
        var key = header["Bearer ".Length..].Trim();
        if (key.Length > 200) return AuthenticateResult.Fail("malformed API key");

        await using var connection = await db.OpenConnectionAsync(Context.RequestAborted);
        var found = await connection.QuerySingleOrDefaultAsync<Found>(new CommandDefinition(FindSql,
            new { Hash = Users.Users.Hash(key) }, cancellationToken: Context.RequestAborted));
        if (found is null) return AuthenticateResult.Fail("unknown API key");
        if (found.RevokedAt is not null) return AuthenticateResult.Fail("revoked API key");
        var user = await Users.Users.FindAsync(connection, found.UserId, Context.RequestAborted);
        if (user is null || user.IsDisabled) return AuthenticateResult.Fail("the key's user is disabled");

        // last_used_at to the minute: one write per key per minute, not one per request.
        await connection.ExecuteAsync(new CommandDefinition(TouchSql, new { found.Id }, cancellationToken: Context.RequestAborted));
        var principal = Users.Users.Principal(user, SchemeName, Roles.Min(user.Role, found.RoleCap), found.Id);
        return AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName));
    }

    sealed record Found(Guid Id, Guid UserId, string RoleCap, DateTime? RevokedAt);

    const string FindSql = "select id, user_id, role_cap, revoked_at from identity.api_keys where key_hash = @Hash";

    const string TouchSql = """
        update identity.api_keys set last_used_at = now()
        where id = @Id and (last_used_at is null or last_used_at < now() - interval '1 minute')
        """;
}
