using BirbalAI.Contracts.Identity;
using BirbalAI.Identity.Audit;
using BirbalAI.Identity.Users;
using Dapper;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using Npgsql;
using RedisRateLimiting;
using StackExchange.Redis;

namespace BirbalAI.Identity.SignIn;

enum SignInOutcome { Success, Failed, LockedOut, Throttled }

sealed record SignInResult(SignInOutcome Outcome, UserRow? User = null, DateTime? LockedUntil = null, TimeSpan? RetryAfter = null);

/// <summary>
/// Checks an email and password for the sign-in page and the token endpoint alike: the per-account
/// rate limit, lockout after repeated failures, PasswordHasher verification (rehashing old formats),
/// and an audit entry for every outcome.
/// </summary>
sealed class PasswordSignIn(
    NpgsqlDataSource db, IPasswordHasher<UserRow> hasher, IOptions<IdentityOptions> options, IAuditLog audit,
    IConnectionMultiplexer redis, IOptions<BirbalAI.Platform.Messaging.RedisOptions> redisOptions, TimeProvider clock)
{
    // Verified against when the account does not exist, so timing does not tell which emails are registered.
    static readonly string DecoyHash = new PasswordHasher<UserRow>().HashPassword(null!, "decoy-password-never-valid");

    public async Task<SignInResult> VerifyAsync(string email, string password, string? ip, CancellationToken ct)
    {
        var o = options.Value;
        var normalized = Users.Users.NormalizeEmail(email);
        // Per client address and per account, in Redis so the limits hold across replicas.
        if (await ThrottleAsync($"ip:{ip}", o.SignInPerIpLimit, ct) is { } ipWait)
            return new SignInResult(SignInOutcome.Throttled, RetryAfter: ipWait);
        if (await ThrottleAsync($"account:{normalized}", o.SignInPerAccountLimit, ct) is { } accountWait)
            return new SignInResult(SignInOutcome.Throttled, RetryAfter: accountWait);

        await using var connection = await db.OpenConnectionAsync(ct);
        var user = await Users.Users.FindByEmailAsync(connection, normalized, ct);
        var now = clock.GetUtcNow().UtcDateTime;
        if (user is null || user.PasswordHash is null || user.IsDisabled)
        {
            hasher.VerifyHashedPassword(null!, DecoyHash, password);
            await audit.RecordAsync(new AuditEntry(AuditKinds.SignInFailed, user?.Id, normalized,
                new Dictionary<string, string?> { ["reason"] = user is null ? "unknown account" : user.IsDisabled ? "disabled" : "no password set" }, ip), null, ct);
            return new SignInResult(SignInOutcome.Failed);
        }
        if (user.LockedUntil > now)
        {
            await audit.RecordAsync(new AuditEntry(AuditKinds.SignInFailed, user.Id, normalized,
                new Dictionary<string, string?> { ["reason"] = "locked out" }, ip), null, ct);
            return new SignInResult(SignInOutcome.LockedOut, user, user.LockedUntil);
        }

        var verdict = hasher.VerifyHashedPassword(user, user.PasswordHash, password);
        if (verdict == PasswordVerificationResult.Failed)
        {
            var failures = user.FailedSignIns + 1;
            DateTime? lockedUntil = failures >= o.MaxFailedSignIns ? now.AddMinutes(o.LockoutMinutes) : null;
            await connection.ExecuteAsync(new CommandDefinition(FailedSql,
                new { user.Id, Failures = lockedUntil is null ? failures : 0, LockedUntil = lockedUntil }, cancellationToken: ct));
            await audit.RecordAsync(new AuditEntry(AuditKinds.SignInFailed, user.Id, normalized,
                new Dictionary<string, string?> { ["reason"] = "wrong password", ["failures"] = failures.ToString() }, ip), null, ct);
            if (lockedUntil is null) return new SignInResult(SignInOutcome.Failed);
            await audit.RecordAsync(new AuditEntry(AuditKinds.LockedOut, user.Id, normalized,
                new Dictionary<string, string?> { ["until"] = lockedUntil.Value.ToString("O") }, ip), null, ct);
            return new SignInResult(SignInOutcome.LockedOut, user, lockedUntil);
        }

        var rehash = verdict == PasswordVerificationResult.SuccessRehashNeeded ? hasher.HashPassword(user, password) : null;
        await connection.ExecuteAsync(new CommandDefinition(SucceededSql, new { user.Id, Rehash = rehash }, cancellationToken: ct));
        await audit.RecordAsync(new AuditEntry(AuditKinds.SignIn, user.Id, normalized, null, ip), null, ct);
        return new SignInResult(SignInOutcome.Success, user);
    }

    /// <returns>How long to wait when the limit is reached, else null.</returns>
    async Task<TimeSpan?> ThrottleAsync(string key, int limit, CancellationToken ct)
    {
        await using var limiter = new RedisFixedWindowRateLimiter<string>($"{redisOptions.Value.KeyPrefix}sign-in:{key}",
            new RedisFixedWindowRateLimiterOptions
            {
                ConnectionMultiplexerFactory = () => redis,
                PermitLimit = limit,
                Window = TimeSpan.FromSeconds(options.Value.SignInWindowSeconds),
            });
        using var lease = await limiter.AcquireAsync(1, ct);
        if (lease.IsAcquired) return null;
        return lease.TryGetMetadata(System.Threading.RateLimiting.MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(options.Value.SignInWindowSeconds);
    }

    const string FailedSql = """
        update identity.users set failed_sign_ins = @Failures, locked_until = coalesce(@LockedUntil, locked_until) where id = @Id
        """;

    const string SucceededSql = """
        update identity.users
        set failed_sign_ins = 0, locked_until = null, last_sign_in_at = now(), password_hash = coalesce(@Rehash, password_hash)
        where id = @Id
        """;
}
