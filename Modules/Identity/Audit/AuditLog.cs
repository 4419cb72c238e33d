using System.Data.Common;
using System.Text.Json;
using BirbalAI.Contracts.Identity;
using Dapper;
using Microsoft.AspNetCore.Http;
using Npgsql;

namespace BirbalAI.Identity.Audit;

/// <summary>Identity's implementation of <see cref="IAuditLog"/>: one row per entry in identity.audit_log.</summary>
sealed class AuditLog(NpgsqlDataSource db, IHttpContextAccessor http) : IAuditLog
{
    public async Task RecordAsync(AuditEntry entry, DbTransaction? transaction, CancellationToken ct)
    {
        var parameters = new
        {
            Id = Guid.CreateVersion7(),
            entry.ActorId,
            entry.Kind,
            entry.Subject,
            Details = JsonSerializer.Serialize(entry.Details ?? new Dictionary<string, string?>()),
            Ip = entry.Ip ?? http.HttpContext?.Connection.RemoteIpAddress?.ToString(),
        };
        if (transaction?.Connection is { } connection)
        {
            await connection.ExecuteAsync(new CommandDefinition(InsertSql, parameters, transaction, cancellationToken: ct));
            return;
        }
        await using var own = await db.OpenConnectionAsync(ct);
        await own.ExecuteAsync(new CommandDefinition(InsertSql, parameters, cancellationToken: ct));
    }

    const string InsertSql = """
        insert into identity.audit_log (id, actor_id, kind, subject, details, ip)
        values (@Id, @ActorId, @Kind, @Subject, @Details::jsonb, @Ip)
        """;
}

/// <summary>The kinds Identity records.</summary>
static class AuditKinds
{
    public const string Setup = "identity.setup";
    public const string SignIn = "identity.sign-in";
    public const string SignInFailed = "identity.sign-in-failed";
    public const string LockedOut = "identity.locked-out";
    public const string SignOut = "identity.sign-out";
    public const string PasswordChanged = "identity.password-changed";
    public const string PasswordReset = "identity.password-reset-issued";
    public const string Invited = "identity.invited";
    public const string InvitationAccepted = "identity.invitation-accepted";
    public const string RoleChanged = "identity.role-changed";
    public const string Disabled = "identity.user-disabled";
    public const string Enabled = "identity.user-enabled";
    public const string ServiceAccountCreated = "identity.service-account-created";
    public const string KeyCreated = "identity.api-key-created";
    public const string KeyRevoked = "identity.api-key-revoked";
    public const string TokenIssued = "identity.token-issued";
}
