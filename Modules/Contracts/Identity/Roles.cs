using System.Security.Claims;

namespace BirbalAI.Contracts.Identity;

/// <summary>The three roles, least to most powerful.</summary>
public static class Roles
{
    public const string Member = "Member";
    public const string Annotator = "Annotator";
    public const string Admin = "Admin";

    public static readonly IReadOnlyList<string> All = [Member, Annotator, Admin];

    /// <summary>0 for Member, 1 for Annotator, 2 for Admin; -1 for anything else.</summary>
    public static int Rank(string? role) => role switch { Member => 0, Annotator => 1, Admin => 2, _ => -1 };

    /// <summary>The lesser of two roles: what an API key may do is its user's role capped by the key's.</summary>
    public static string Min(string a, string b) => Rank(a) <= Rank(b) ? a : b;

    /// <summary>The canonical spelling of a role name given in any case, or null.</summary>
    public static string? Parse(string? value) => All.FirstOrDefault(r => string.Equals(r, value?.Trim(), StringComparison.OrdinalIgnoreCase));
}

/// <summary>Authorization policies every module uses on its endpoints and pages.</summary>
public static class Policies
{
    /// <summary>Admins only.</summary>
    public const string Admin = "Admin";
    /// <summary>Annotators and Admins.</summary>
    public const string Annotator = "Annotator";
    /// <summary>Any signed-in person or key (the fallback policy).</summary>
    public const string Member = "Member";
}

public static class ClaimsPrincipalExtensions
{
    /// <summary>The signed-in user's id (the NameIdentifier claim).</summary>
    public static Guid UserId(this ClaimsPrincipal user) =>
        Guid.TryParse(user.FindFirst(ClaimTypes.NameIdentifier)?.Value, out var id) ? id
            : throw new InvalidOperationException("The principal has no user id: is the endpoint anonymous?");

    public static Guid? UserIdOrNull(this ClaimsPrincipal user) =>
        Guid.TryParse(user.FindFirst(ClaimTypes.NameIdentifier)?.Value, out var id) ? id : null;
}
