using System.Security.Claims;
using System.Security.Cryptography;
using Dapper;
using Npgsql;

namespace BirbalAI.Identity.Users;

/// <summary>A row of identity.users; column order and types match <see cref="Users.Columns"/>.</summary>
sealed record UserRow(
    Guid Id, string Email, string DisplayName, string Role, string? PasswordHash, bool IsServiceAccount,
    DateTime? DisabledAt, int FailedSignIns, DateTime? LockedUntil, Guid SecurityStamp, DateTime CreatedAt, DateTime? LastSignInAt)
{
    public bool IsDisabled => DisabledAt is not null;
}

/// <summary>The few reads of a user that sign-in, tokens, keys and pages share.</summary>
static class Users
{
    public const string StampClaim = "birbal:stamp";
    public const string KeyIdClaim = "birbal:key";
    public const string SessionClaim = "birbal:session";

    public const string Columns = """
        id, email, display_name, role, password_hash, is_service_account,
        disabled_at, failed_sign_ins, locked_until, security_stamp, created_at, last_sign_in_at
        """;

    public static string NormalizeEmail(string email) => email.Trim().ToLowerInvariant();

    /// <summary>An ILIKE pattern matching <paramref name="q"/> anywhere, wildcards escaped; null for no search.</summary>
    public static string? LikePattern(string? q) =>
        string.IsNullOrWhiteSpace(q) ? null : "%" + q.Trim().Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_") + "%";

    public static async Task<UserRow?> FindByEmailAsync(NpgsqlConnection connection, string email, CancellationToken ct, NpgsqlTransaction? tx = null) =>
        await connection.QuerySingleOrDefaultAsync<UserRow>(new CommandDefinition(
            $"select {Columns} from identity.users where lower(email) = @Email", new { Email = NormalizeEmail(email) }, tx, cancellationToken: ct));

    public static async Task<UserRow?> FindAsync(NpgsqlConnection connection, Guid id, CancellationToken ct, NpgsqlTransaction? tx = null) =>
        await connection.QuerySingleOrDefaultAsync<UserRow>(new CommandDefinition(
            $"select {Columns} from identity.users where id = @id", new { id }, tx, cancellationToken: ct));

    /// <summary>Whether any account exists: first-run setup is offered only while none does.</summary>
    public static async Task<bool> AnyAsync(NpgsqlConnection connection, CancellationToken ct, NpgsqlTransaction? tx = null) =>
        await connection.ExecuteScalarAsync<bool>(new CommandDefinition("select exists (select 1 from identity.users)", transaction: tx, cancellationToken: ct));

    /// <summary>The principal a session, token or key acts as. <paramref name="role"/> may be capped below the user's.</summary>
    public static ClaimsPrincipal Principal(UserRow user, string scheme, string? role = null, Guid? keyId = null, Guid? sessionId = null)
    {
        List<Claim> claims =
        [
            new(ClaimTypes.NameIdentifier, user.Id.ToString()),
            new(ClaimTypes.Name, user.DisplayName),
            new(ClaimTypes.Email, user.Email),
            new(ClaimTypes.Role, role ?? user.Role),
            new(StampClaim, user.SecurityStamp.ToString()),
        ];
        if (keyId is { } id) claims.Add(new Claim(KeyIdClaim, id.ToString()));
        if (sessionId is { } session) claims.Add(new Claim(SessionClaim, session.ToString()));
        return new ClaimsPrincipal(new ClaimsIdentity(claims, scheme, ClaimTypes.Name, ClaimTypes.Role));
    }

    /// <summary>
    /// Is this principal still valid: user enabled and nothing changed since (stamp), its API key not revoked, its
    /// page session not signed out, its token not expired (when it carries an expiry)?
    /// </summary>
    public static async Task<bool> IsCurrentAsync(NpgsqlDataSource db, ClaimsPrincipal principal, CancellationToken ct, DateTimeOffset? now = null)
    {
        if (!Guid.TryParse(principal.FindFirstValue(ClaimTypes.NameIdentifier), out var id)
            || !Guid.TryParse(principal.FindFirstValue(StampClaim), out var stamp)) return false;
        if (principal.FindFirstValue("exp") is { } exp && long.TryParse(exp, out var expires)
            && DateTimeOffset.FromUnixTimeSeconds(expires) <= (now ?? DateTimeOffset.UtcNow)) return false;
        Guid? keyId = Guid.TryParse(principal.FindFirstValue(KeyIdClaim), out var key) ? key : null;
        Guid? sessionId = Guid.TryParse(principal.FindFirstValue(SessionClaim), out var session) ? session : null;
        // A page session always has its id: a cookie without one (or with a forged one) is not a session.
        if (principal.Identity?.AuthenticationType == "Cookies" && sessionId is null) return false;
        await using var connection = await db.OpenConnectionAsync(ct);
        return await connection.ExecuteScalarAsync<bool>(new CommandDefinition(CurrentSql, new { id, stamp, keyId, sessionId }, cancellationToken: ct));
    }

    /// <summary>A URL-safe random secret and its SHA-256 (what is stored).</summary>
    public static (string Token, string Hash) NewSecret(string prefix = "")
    {
        var token = prefix + Base64UrlEncode(RandomNumberGenerator.GetBytes(32));
        return (token, Hash(token));
    }

    public static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(token)));

    static string Base64UrlEncode(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    const string CurrentSql = """
        select exists (
            select 1 from identity.users u
            where u.id = @id and u.security_stamp = @stamp and u.disabled_at is null
              and (@keyId::uuid is null or exists (
                  select 1 from identity.api_keys k where k.id = @keyId and k.user_id = u.id and k.revoked_at is null))
              and (@sessionId::uuid is null or exists (
                  select 1 from identity.sessions s where s.id = @sessionId and s.user_id = u.id and s.ended_at is null)))
        """;
}
