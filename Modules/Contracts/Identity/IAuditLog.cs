using System.Data.Common;
using System.Security.Claims;

namespace BirbalAI.Contracts.Identity;

/// <summary>One audited action: who (<see cref="ActorId"/>, or null for anonymous), what (<see cref="Kind"/>, "module.verb"), on what.</summary>
public sealed record AuditEntry(string Kind, Guid? ActorId, string? Subject, IReadOnlyDictionary<string, string?>? Details = null, string? Ip = null);

/// <summary>The audit log every module writes to (Identity owns it).</summary>
public interface IAuditLog
{
    /// <summary>
    /// Records <paramref name="entry"/>. With <paramref name="transaction"/> the entry commits (or rolls back)
    /// with the caller's change; without, it is written on its own.
    /// </summary>
    Task RecordAsync(AuditEntry entry, DbTransaction? transaction, CancellationToken ct);
}

public static class AuditLogExtensions
{
    public static Task RecordAsync(this IAuditLog log, ClaimsPrincipal actor, string kind, string? subject,
        IReadOnlyDictionary<string, string?>? details = null, DbTransaction? transaction = null, CancellationToken ct = default) =>
        log.RecordAsync(new AuditEntry(kind, actor.UserIdOrNull(), subject, details), transaction, ct);
}
