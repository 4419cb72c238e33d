using System.Security.Claims;

namespace BirbalAI.Contracts.Identity;

/// <summary>A person as other modules may see them.</summary>
public sealed record DirectoryUser(Guid Id, string DisplayName, string Email);

/// <summary>Looking people up without reading Identity's tables (Identity owns them).</summary>
public interface IUserDirectory
{
    /// <summary>The active (not disabled) user with this email, or null.</summary>
    Task<DirectoryUser?> FindByEmailAsync(string email, CancellationToken ct);

    /// <summary>
    /// Whether <paramref name="user"/> (a page session, a JWT or an API key) may still act now: the account is
    /// enabled, nothing changed since it was issued (security stamp: role, password, disabling), its key is not
    /// revoked, its session not signed out, its token not expired. Long-lived connections (hubs) ask on every call.
    /// </summary>
    Task<bool> IsCurrentAsync(ClaimsPrincipal user, CancellationToken ct);

    /// <summary>Display names of these users (missing ids are left out).</summary>
    Task<IReadOnlyDictionary<Guid, string>> NamesAsync(IReadOnlyCollection<Guid> ids, CancellationToken ct);
}

/// <summary>
/// The Redis broadcast Identity sends to every replica when a user is disabled, their role, password or security
/// stamp changes, a key of theirs is revoked or a session of theirs ends; the message is the user id. Open
/// connections of that user are checked again and closed when no longer current.
/// </summary>
public static class UserChanged
{
    public const string Channel = "identity.user-changed";
}
