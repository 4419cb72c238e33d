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

    /// <param name="signingIn">False when a signed-in person confirms their password (a password change): no sign-in is recorded.</param>
    public async Task<SignInResult> VerifyAsync(string email, string password, string? ip, CancellationToken ct, bool signingIn = true)
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
            return await PhantomFailureAsync(normalized, now, ct);
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
            // One atomic update: concurrent wrong guesses each count (a read, +1 and write-back in code lost most of them).
            var lockedUntil = now.AddMinutes(o.LockoutMinutes);
            var counted = await connection.QuerySingleAsync<Counted>(new CommandDefinition(FailedSql,
                new { user.Id, Max = o.MaxFailedSignIns, LockedUntil = lockedUntil }, cancellationToken: ct));
            await audit.RecordAsync(new AuditEntry(AuditKinds.SignInFailed, user.Id, normalized,
                new Dictionary<string, string?> { ["reason"] = "wrong password", ["failures"] = counted.Failures.ToString() }, ip), null, ct);
            if (!counted.Locked) return new SignInResult(SignInOutcome.Failed);
            await audit.RecordAsync(new AuditEntry(AuditKinds.LockedOut, user.Id, normalized,
                new Dictionary<string, string?> { ["until"] = lockedUntil.ToString("O") }, ip), null, ct);
            return new SignInResult(SignInOutcome.LockedOut, user, lockedUntil);
        }

        // Only if no concurrent guess locked the account meanwhile.
        var rehash = verdict == PasswordVerificationResult.SuccessRehashNeeded ? hasher.HashPassword(user, password) : null;
        if (await connection.ExecuteAsync(new CommandDefinition(SucceededSql, new { user.Id, Rehash = rehash, Now = now, SigningIn = signingIn }, cancellationToken: ct)) == 0)
            return new SignInResult(SignInOutcome.LockedOut, user, (await Users.Users.FindAsync(connection, user.Id, ct))?.LockedUntil);
        if (signingIn) await audit.RecordAsync(new AuditEntry(AuditKinds.SignIn, user.Id, normalized, null, ip), null, ct);
        return new SignInResult(SignInOutcome.Success, user);
    }

    sealed record Counted(int Failures, bool Locked);

    /// <summary>
    /// An email that cannot sign in (no such account, disabled, no password) locks out exactly as a real account
    /// does — the same count, the same message and lock time — so the answers never tell which emails exist. Kept in Redis.
    /// </summary>
    async Task<SignInResult> PhantomFailureAsync(string email, DateTime now, CancellationToken ct)
    {
        var o = options.Value;
        var redisDb = redis.GetDatabase();
        var (lockKey, countKey) = ($"{redisOptions.Value.KeyPrefix}sign-in:phantom-lock:{email}", $"{redisOptions.Value.KeyPrefix}sign-in:phantom-failures:{email}");
        if (await redisDb.StringGetAsync(lockKey) is { HasValue: true } held && new DateTime((long)held, DateTimeKind.Utc) is var until && until > now)
            return new SignInResult(SignInOutcome.LockedOut, LockedUntil: until);
        var failures = await redisDb.StringIncrementAsync(countKey);
        await redisDb.KeyExpireAsync(countKey, TimeSpan.FromDays(1));
        if (failures < o.MaxFailedSignIns) return new SignInResult(SignInOutcome.Failed);
        var lockedUntil = now.AddMinutes(o.LockoutMinutes);
        await redisDb.StringSetAsync(lockKey, lockedUntil.Ticks, TimeSpan.FromMinutes(o.LockoutMinutes * 2 + 1));
        await redisDb.KeyDeleteAsync(countKey);
        return new SignInResult(SignInOutcome.LockedOut, LockedUntil: lockedUntil);
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

    // The failure that reaches the limit locks the account and starts the count again.
    const string FailedSql = """
        update identity.users
        set failed_sign_ins = case when failed_sign_ins + 1 >= @Max then 0 else failed_sign_ins + 1 end,
            locked_until = case when failed_sign_ins + 1 >= @Max then @LockedUntil else locked_until end
        where id = @Id
        returning case when failed_sign_ins = 0 then @Max else failed_sign_ins end as failures, failed_sign_ins = 0 as locked
        """;

    const string SucceededSql = """
        update identity.users
        set failed_sign_ins = 0, locked_until = null, password_hash = coalesce(@Rehash, password_hash),
            last_sign_in_at = case when @SigningIn then now() else last_sign_in_at end
        where id = @Id and (locked_until is null or locked_until <= @Now)
        """;
}
