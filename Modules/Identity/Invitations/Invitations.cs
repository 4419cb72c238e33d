using BirbalAI.Identity.Users;
using Dapper;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using Npgsql;

namespace BirbalAI.Identity.Invitations;

/// <summary>
/// Single-use, expiring links that let a person set a password: "invite" for a new account, "reset"
/// for an existing one. Only the token's hash is stored; the link is shown (or mailed) once.
/// </summary>
sealed class Invitations(IOptions<IdentityOptions> options, IPasswordHasher<UserRow> hasher, TimeProvider clock,
    BirbalAI.Contracts.Identity.IAuditLog audit, BirbalAI.Platform.Messaging.Broadcasts broadcasts)
{
    public const string AcceptPath = "/account/accept";

    public async Task<string> IssueAsync(NpgsqlConnection connection, NpgsqlTransaction tx, Guid userId, string kind, Guid? createdBy, CancellationToken ct)
    {
        var (token, hash) = Users.Users.NewSecret();
        // A new link replaces any earlier unused one for the same person.
        await connection.ExecuteAsync(new CommandDefinition(RetireSql, new { userId }, tx, cancellationToken: ct));
        await connection.ExecuteAsync(new CommandDefinition(InsertSql, new
        {
            Id = Guid.CreateVersion7(), Hash = hash, userId, kind, createdBy,
            ExpiresAt = clock.GetUtcNow().UtcDateTime.AddHours(options.Value.InvitationHours),
        }, tx, cancellationToken: ct));
        return $"{AcceptPath}?token={Uri.EscapeDataString(token)}";
    }

    public sealed record Pending(Guid Id, Guid UserId, string Kind, string Email, string DisplayName);

    /// <summary>The unused, unexpired invitation of <paramref name="token"/>, or null.</summary>
    public async Task<Pending?> FindAsync(NpgsqlConnection connection, string token, CancellationToken ct, NpgsqlTransaction? tx = null) =>
        token.Length is 0 or > 200 ? null
            : await connection.QuerySingleOrDefaultAsync<Pending>(new CommandDefinition(FindSql,
                new { Hash = Users.Users.Hash(token), Now = clock.GetUtcNow().UtcDateTime }, tx, cancellationToken: ct));

    /// <summary>Sets the password and uses up the invitation, in one transaction; false when the link is no longer valid.</summary>
    public async Task<Pending?> AcceptAsync(NpgsqlConnection connection, string token, string password, CancellationToken ct)
    {
        await using var tx = await connection.BeginTransactionAsync(ct);
        var pending = await FindAsync(connection, token, ct, tx);
        if (pending is null) return null;
        var used = await connection.ExecuteAsync(new CommandDefinition(UseSql, new { pending.Id }, tx, cancellationToken: ct));
        if (used == 0) return null;   // accepted concurrently
        await connection.ExecuteAsync(new CommandDefinition(SetPasswordSql, new
        {
            pending.UserId, Hash = hasher.HashPassword(null!, password), Stamp = Guid.NewGuid(),
        }, tx, cancellationToken: ct));
        // A reset is a password change: the person's own keys end with the old password.
        if (await Users.Users.FindAsync(connection, pending.UserId, ct, tx) is { } user)
            await UserAdministration.RevokePersonalKeysAsync(connection, tx, audit, user, "password reset", ct);
        await tx.CommitAsync(ct);
        await broadcasts.PublishAsync(BirbalAI.Contracts.Identity.UserChanged.Channel, pending.UserId.ToString());
        return pending;
    }

    const string RetireSql = "update identity.invitations set expires_at = least(expires_at, now()) where user_id = @UserId and used_at is null";

    const string InsertSql = """
        insert into identity.invitations (id, token_hash, user_id, kind, created_by, expires_at)
        values (@Id, @Hash, @UserId, @Kind, @CreatedBy, @ExpiresAt)
        """;

    const string FindSql = """
        select i.id, i.user_id, i.kind, u.email, u.display_name
        from identity.invitations i join identity.users u on u.id = i.user_id
        where i.token_hash = @Hash and i.used_at is null and i.expires_at > @Now and u.disabled_at is null
        """;

    const string UseSql = "update identity.invitations set used_at = now() where id = @Id and used_at is null";

    const string SetPasswordSql = """
        update identity.users
        set password_hash = @Hash, security_stamp = @Stamp, failed_sign_ins = 0, locked_until = null
        where id = @UserId
        """;
}
