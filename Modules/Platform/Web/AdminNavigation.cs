using System.Security.Claims;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.DependencyInjection;

namespace BirbalAI.Platform.Web;

/// <summary>One entry of the admin portal's navigation; shown to users who satisfy <see cref="Policy"/> (everyone when null).</summary>
public sealed record AdminLink(string Title, string Href, string? Policy, int Order);

/// <summary>The registry modules add their portal entries to; the host's one layout renders it.</summary>
public sealed class AdminNavigation(IEnumerable<AdminLink> links, IAuthorizationService authorization)
{
    public async Task<IReadOnlyList<AdminLink>> VisibleToAsync(ClaimsPrincipal user)
    {
        var visible = new List<AdminLink>();
        foreach (var link in links.OrderBy(l => l.Order).ThenBy(l => l.Title, StringComparer.Ordinal))
            if (link.Policy is null || (await authorization.AuthorizeAsync(user, link.Policy)).Succeeded)
                visible.Add(link);
        return visible;
    }
}

public static class AdminNavigationRegistration
{
    public static IServiceCollection AddAdminLink(this IServiceCollection services, string title, string href, string? policy, int order) =>
        services.AddSingleton(new AdminLink(title, href, policy, order));
}
