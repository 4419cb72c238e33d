using System.Globalization;
using System.Net.Mail;
using System.Text;
using BirbalAI.Contracts.Identity;
using BirbalAI.Identity.Audit;
using Dapper;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using Npgsql;

namespace BirbalAI.Identity.Users;

/// <summary>A rule said no; the message is shown to the person as it is.</summary>
sealed class IdentityRuleException(string message) : Exception(message);

/// <summary>
/// Every change to people and keys, for the pages, the CLI and the API alike, so the rules live once:
/// valid input, the last Admin is never removed, every change audited in its own transaction.
/// </summary>
sealed class UserAdministration(
    NpgsqlDataSource db, IPasswordHasher<UserRow> hasher, IAuditLog audit, Invitations.Invitations invitations, IOptions<IdentityOptions> options,
    BirbalAI.Platform.Messaging.Broadcasts broadcasts)
{
    /// <summary>Every replica re-checks this user's open connections (hubs) and closes those no longer current.</summary>
    public Task AnnounceAsync(Guid userId) => broadcasts.PublishAsync(UserChanged.Channel, userId.ToString());

    public const int MaxNameLength = 100;
    public const int MaxEmailLength = 254;
    public const int MaxPasswordLength = 256;

    /// <summary>First-run setup: the first Admin, only while no user exists (two racing requests make one Admin).</summary>
    public async Task<UserRow> CreateFirstAdminAsync(string email, string displayName, string password, CancellationToken ct)
    {
        var (cleanEmail, cleanName) = (ValidEmail(email), ValidName(displayName, "Name"));
        ValidPassword(password);
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        await LockUsersAsync(connection, tx, ct);
        if (await Users.AnyAsync(connection, ct, tx))
            throw new IdentityRuleException("Setup is already done: an account exists.");
        var user = await InsertAsync(connection, tx, cleanEmail, cleanName, Roles.Admin, hasher.HashPassword(null!, password), false, ct);
        await audit.RecordAsync(new AuditEntry(AuditKinds.Setup, user.Id, user.Email), tx, ct);
        await tx.CommitAsync(ct);
        return user;
    }

    /// <summary>The CLI's `admin create`: an Admin with a password, or an existing account promoted and given that password.</summary>
    public async Task<UserRow> CreateAdminAsync(string email, string password, CancellationToken ct)
    {
        var cleanEmail = ValidEmail(email);
        ValidPassword(password);
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        await LockUsersAsync(connection, tx, ct);
        var user = await Users.FindByEmailAsync(connection, cleanEmail, ct, tx);
        if (user is null)
            user = await InsertAsync(connection, tx, cleanEmail, cleanEmail.Split('@')[0], Roles.Admin, hasher.HashPassword(null!, password), false, ct);
        else
        {
            await connection.ExecuteAsync(new CommandDefinition(PromoteSql,
                new { user.Id, Hash = hasher.HashPassword(user, password), Stamp = Guid.NewGuid() }, tx, cancellationToken: ct));
            await RevokePersonalKeysAsync(connection, tx, audit, user, "password set by admin create", ct);
        }
        await audit.RecordAsync(new AuditEntry(AuditKinds.Setup, null, cleanEmail, new Dictionary<string, string?> { ["via"] = "cli admin create" }), tx, ct);
        await tx.CommitAsync(ct);
        await AnnounceAsync(user.Id);
        return (await Users.FindAsync(connection, user.Id, ct))!;
    }

    /// <summary>The `demo` verb's people: an account with a role and a password, audited as made by the demo.</summary>
    public async Task<UserRow> CreatePersonAsync(string email, string displayName, string role, string password, CancellationToken ct)
    {
        var (cleanEmail, cleanName, cleanRole) = (ValidEmail(email), ValidName(displayName, "Name"), ValidRole(role));
        ValidPassword(password);
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        if (await Users.FindByEmailAsync(connection, cleanEmail, ct, tx) is not null)
            throw new IdentityRuleException($"{cleanEmail} already has an account.");
        var user = await InsertAsync(connection, tx, cleanEmail, cleanName, cleanRole, hasher.HashPassword(null!, password), false, ct);
        await audit.RecordAsync(new AuditEntry(AuditKinds.Setup, null, cleanEmail,
            new Dictionary<string, string?> { ["via"] = "cli demo", ["role"] = cleanRole }), tx, ct);
        await tx.CommitAsync(ct);
        return user;
    }

    /// <summary>Creates the account (no password yet) and returns the single-use link that lets the person set one.</summary>
    public async Task<(UserRow User, string Link)> InviteAsync(Guid actorId, string email, string displayName, string role, CancellationToken ct)
    {
        var (cleanEmail, cleanName, cleanRole) = (ValidEmail(email), ValidName(displayName, "Name"), ValidRole(role));
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        if (await Users.FindByEmailAsync(connection, cleanEmail, ct, tx) is not null)
            throw new IdentityRuleException($"{cleanEmail} already has an account.");
        var user = await InsertAsync(connection, tx, cleanEmail, cleanName, cleanRole, null, false, ct);
        var link = await invitations.IssueAsync(connection, tx, user.Id, "invite", actorId, ct);
        await audit.RecordAsync(new AuditEntry(AuditKinds.Invited, actorId, cleanEmail, new Dictionary<string, string?> { ["role"] = cleanRole }), tx, ct);
        await tx.CommitAsync(ct);
        return (user, link);
    }

    /// <summary>A single-use link that lets the person set a new password; their current sessions end when they use it.</summary>
    public async Task<(UserRow User, string Link)> IssueResetAsync(Guid actorId, Guid userId, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var user = await Users.FindAsync(connection, userId, ct, tx) ?? throw new IdentityRuleException("No such user.");
        if (user.IsServiceAccount) throw new IdentityRuleException("A service account has no password; use API keys.");
        var link = await invitations.IssueAsync(connection, tx, user.Id, user.PasswordHash is null ? "invite" : "reset", actorId, ct);
        await audit.RecordAsync(new AuditEntry(AuditKinds.PasswordReset, actorId, user.Email), tx, ct);
        await tx.CommitAsync(ct);
        return (user, link);
    }

    public async Task ChangeRoleAsync(Guid actorId, Guid userId, string role, CancellationToken ct)
    {
        var cleanRole = ValidRole(role);
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        await LockUsersAsync(connection, tx, ct);
        var user = await Users.FindAsync(connection, userId, ct, tx) ?? throw new IdentityRuleException("No such user.");
        if (user.Role == cleanRole) return;
        if (user.Role == Roles.Admin && !user.IsDisabled) await RefuseLastAdminAsync(connection, tx, user, ct);
        await connection.ExecuteAsync(new CommandDefinition(
            "update identity.users set role = @cleanRole, security_stamp = @Stamp where id = @userId",
            new { cleanRole, userId, Stamp = Guid.NewGuid() }, tx, cancellationToken: ct));
        await audit.RecordAsync(new AuditEntry(AuditKinds.RoleChanged, actorId, user.Email,
            new Dictionary<string, string?> { ["from"] = user.Role, ["to"] = cleanRole }), tx, ct);
        await tx.CommitAsync(ct);
        await AnnounceAsync(userId);
    }

    public async Task SetDisabledAsync(Guid actorId, Guid userId, bool disabled, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        await LockUsersAsync(connection, tx, ct);
        var user = await Users.FindAsync(connection, userId, ct, tx) ?? throw new IdentityRuleException("No such user.");
        if (user.IsDisabled == disabled) return;
        if (disabled && user.Role == Roles.Admin) await RefuseLastAdminAsync(connection, tx, user, ct);
        await connection.ExecuteAsync(new CommandDefinition(
            "update identity.users set disabled_at = case when @disabled then now() end, security_stamp = @Stamp where id = @userId",
            new { disabled, userId, Stamp = Guid.NewGuid() }, tx, cancellationToken: ct));
        await audit.RecordAsync(new AuditEntry(disabled ? AuditKinds.Disabled : AuditKinds.Enabled, actorId, user.Email), tx, ct);
        await tx.CommitAsync(ct);
        await AnnounceAsync(userId);
    }

    /// <summary>
    /// A person changes their password: every other session and token ends (the stamp) and their own API keys are
    /// revoked — a leaked password must not leave a working key behind. Service accounts have no password, so their
    /// keys are never touched here. Returns how many keys were revoked.
    /// </summary>
    public async Task<int> ChangePasswordAsync(Guid userId, string current, string next, CancellationToken ct)
    {
        ValidPassword(next);
        await using var connection = await db.OpenConnectionAsync(ct);
        var user = await Users.FindAsync(connection, userId, ct) ?? throw new IdentityRuleException("No such user.");
        if (user.PasswordHash is null || hasher.VerifyHashedPassword(user, user.PasswordHash, current) == PasswordVerificationResult.Failed)
            throw new IdentityRuleException("The current password is wrong.");
        await using var tx = await connection.BeginTransactionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition(
            "update identity.users set password_hash = @Hash, security_stamp = @Stamp where id = @userId",
            new { userId, Hash = hasher.HashPassword(user, next), Stamp = Guid.NewGuid() }, tx, cancellationToken: ct));
        await audit.RecordAsync(new AuditEntry(AuditKinds.PasswordChanged, userId, user.Email), tx, ct);
        var revoked = await RevokePersonalKeysAsync(connection, tx, audit, user, "password changed", ct);
        await tx.CommitAsync(ct);
        await AnnounceAsync(userId);
        return revoked;
    }

    /// <summary>Revokes every live key of a person (never of a service account), each audited with the reason.</summary>
    public static async Task<int> RevokePersonalKeysAsync(NpgsqlConnection connection, NpgsqlTransaction tx, IAuditLog audit, UserRow user, string reason, CancellationToken ct)
    {
        if (user.IsServiceAccount) return 0;
        var keys = (await connection.QueryAsync<(string Name, string Prefix)>(new CommandDefinition(RevokePersonalKeysSql,
            new { UserId = user.Id }, tx, cancellationToken: ct))).AsList();
        foreach (var key in keys)
            await audit.RecordAsync(new AuditEntry(AuditKinds.KeyRevoked, user.Id, $"{key.Name} ({key.Prefix}…)",
                new Dictionary<string, string?> { ["user"] = user.Email, ["reason"] = reason }), tx, ct);
        return keys.Count;
    }

    public async Task<UserRow> CreateServiceAccountAsync(Guid? actorId, string name, string role, CancellationToken ct)
    {
        var (cleanName, cleanRole) = (ValidName(name, "Name"), ValidRole(role));
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        // Service accounts get a reserved address: they never sign in, and it cannot clash with a person's.
        var email = $"{Guid.CreateVersion7():N}@service-accounts.invalid";
        var user = await InsertAsync(connection, tx, email, cleanName, cleanRole, null, true, ct);
        await audit.RecordAsync(new AuditEntry(AuditKinds.ServiceAccountCreated, actorId, cleanName,
            new Dictionary<string, string?> { ["role"] = cleanRole }), tx, ct);
        await tx.CommitAsync(ct);
        return user;
    }

    /// <summary>Creates a key for <paramref name="userId"/>; the returned key is shown once and never stored.</summary>
    public async Task<(Guid Id, string Key)> CreateKeyAsync(Guid? actorId, Guid userId, string name, string roleCap, CancellationToken ct)
    {
        var (cleanName, cleanCap) = (ValidName(name, "Key name"), ValidRole(roleCap));
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var user = await Users.FindAsync(connection, userId, ct, tx) ?? throw new IdentityRuleException("No such user.");
        if (user.IsDisabled) throw new IdentityRuleException($"{user.DisplayName} is disabled.");
        var (key, hash) = Users.NewSecret(ApiKeys.ApiKeyAuthentication.Prefix);
        var id = Guid.CreateVersion7();
        await connection.ExecuteAsync(new CommandDefinition(InsertKeySql, new
        {
            id, userId, Name = cleanName, Prefix = key[..10], Hash = hash, RoleCap = cleanCap, CreatedBy = actorId,
        }, tx, cancellationToken: ct));
        await audit.RecordAsync(new AuditEntry(AuditKinds.KeyCreated, actorId, $"{cleanName} ({key[..10]}…)",
            new Dictionary<string, string?> { ["user"] = user.Email, ["cap"] = cleanCap }), tx, ct);
        await tx.CommitAsync(ct);
        return (id, key);
    }

    public async Task RevokeKeyAsync(Guid actorId, Guid keyId, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var key = await connection.QuerySingleOrDefaultAsync<(string Name, string Prefix, Guid UserId)?>(new CommandDefinition(
            "update identity.api_keys set revoked_at = now() where id = @keyId and revoked_at is null returning name, prefix, user_id",
            new { keyId }, tx, cancellationToken: ct));
        if (key is null) throw new IdentityRuleException("No such key, or it is already revoked.");
        await audit.RecordAsync(new AuditEntry(AuditKinds.KeyRevoked, actorId, $"{key.Value.Name} ({key.Value.Prefix}…)"), tx, ct);
        await tx.CommitAsync(ct);
        await AnnounceAsync(key.Value.UserId);
    }

    // ---- input rules, shared by every caller ----

    public static string ValidEmail(string? email)
    {
        var value = ValidText(email, "Email", MaxEmailLength);
        if (!MailAddress.TryCreate(value, out var address) || address.Address != value || !value.Contains('.', StringComparison.Ordinal))
            throw new IdentityRuleException("Email: enter an address such as name@example.org.");
        return Users.NormalizeEmail(value);
    }

    public static string ValidName(string? name, string field) => ValidText(name, field, MaxNameLength);

    public static string ValidRole(string? role) => Roles.Parse(role) ?? throw new IdentityRuleException($"Role: choose {string.Join(", ", Roles.All)}.");

    public void ValidPassword(string? password)
    {
        var min = options.Value.MinPasswordLength;
        if (string.IsNullOrEmpty(password) || password.Length < min) throw new IdentityRuleException($"Password: at least {min} characters.");
        if (password.Length > MaxPasswordLength) throw new IdentityRuleException($"Password: at most {MaxPasswordLength} characters.");
        if (!IsWellFormed(password)) throw new IdentityRuleException("Password: contains characters that cannot be typed reliably (control characters or broken Unicode).");
    }

    /// <summary>Trimmed, NFC-normalised text: not empty, not longer than <paramref name="max"/>, no control characters, no broken surrogates.</summary>
    public static string ValidText(string? text, string field, int max)
    {
        var value = text?.Trim() ?? "";
        if (value.Length == 0) throw new IdentityRuleException($"{field}: required.");
        if (!IsWellFormed(value)) throw new IdentityRuleException($"{field}: contains control characters or broken Unicode.");
        value = value.Normalize(NormalizationForm.FormC);
        if (new StringInfo(value).LengthInTextElements > max || value.Length > max * 4)
            throw new IdentityRuleException($"{field}: at most {max} characters.");
        return value;
    }

    static bool IsWellFormed(string value)
    {
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (char.IsControl(c) || c is '\u2028' or '\u2029') return false;
            if (char.IsHighSurrogate(c)) { if (i + 1 >= value.Length || !char.IsLowSurrogate(value[++i])) return false; }
            else if (char.IsLowSurrogate(c)) return false;
        }
        return true;
    }

    // ---- shared SQL steps ----

    static Task LockUsersAsync(NpgsqlConnection connection, NpgsqlTransaction tx, CancellationToken ct) =>
        connection.ExecuteAsync(new CommandDefinition("select pg_advisory_xact_lock(hashtext('identity.users'))", transaction: tx, cancellationToken: ct));

    static async Task RefuseLastAdminAsync(NpgsqlConnection connection, NpgsqlTransaction tx, UserRow admin, CancellationToken ct)
    {
        var others = await connection.ExecuteScalarAsync<int>(new CommandDefinition(
            "select count(*) from identity.users where role = 'Admin' and disabled_at is null and id <> @Id",
            new { admin.Id }, tx, cancellationToken: ct));
        if (others == 0) throw new IdentityRuleException($"{admin.DisplayName} is the last Admin: make someone else Admin first.");
    }

    static async Task<UserRow> InsertAsync(NpgsqlConnection connection, NpgsqlTransaction tx, string email, string name, string role,
        string? passwordHash, bool serviceAccount, CancellationToken ct) =>
        await connection.QuerySingleAsync<UserRow>(new CommandDefinition(InsertSql, new
        {
            Id = Guid.CreateVersion7(), email, name, role, passwordHash, serviceAccount, Stamp = Guid.NewGuid(),
        }, tx, cancellationToken: ct));

    const string InsertSql = $"""
        insert into identity.users (id, email, display_name, role, password_hash, is_service_account, security_stamp)
        values (@Id, @Email, @Name, @Role, @PasswordHash, @ServiceAccount, @Stamp)
        returning {Users.Columns}
        """;

    const string PromoteSql = """
        update identity.users
        set role = 'Admin', password_hash = @Hash, security_stamp = @Stamp, disabled_at = null, failed_sign_ins = 0, locked_until = null
        where id = @Id
        """;

    const string RevokePersonalKeysSql = """
        update identity.api_keys set revoked_at = now() where user_id = @UserId and revoked_at is null returning name, prefix
        """;

    const string InsertKeySql = """
        insert into identity.api_keys (id, user_id, name, prefix, key_hash, role_cap, created_by)
        values (@Id, @UserId, @Name, @Prefix, @Hash, @RoleCap, @CreatedBy)
        """;
}
