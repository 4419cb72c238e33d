namespace BirbalAI.Contracts.Identity;

/// <summary>A person as other modules may see them.</summary>
public sealed record DirectoryUser(Guid Id, string DisplayName, string Email);

/// <summary>Looking people up without reading Identity's tables (Identity owns them).</summary>
public interface IUserDirectory
{
    /// <summary>The active (not disabled) user with this email, or null.</summary>
    Task<DirectoryUser?> FindByEmailAsync(string email, CancellationToken ct);

    /// <summary>Display names of these users (missing ids are left out).</summary>
    Task<IReadOnlyDictionary<Guid, string>> NamesAsync(IReadOnlyCollection<Guid> ids, CancellationToken ct);
}
