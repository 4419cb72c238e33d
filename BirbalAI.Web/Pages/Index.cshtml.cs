using System.Reflection;
using BirbalAI.Platform;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace BirbalAI.Web.Pages;

[AllowAnonymous]
public sealed class IndexModel(HostRole role, IWebHostEnvironment environment) : PageModel
{
    public string Role => role.Name;
    public string Environment => environment.EnvironmentName;
    /// <summary>"1.0.0 (c790d54)": the version and, when built from git, the commit.</summary>
    public string Version { get; } = Describe(typeof(IndexModel).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion);

    static string Describe(string? informational) => informational?.Split('+') switch
    {
        [var version, var commit] => $"{version} ({commit[..Math.Min(7, commit.Length)]})",
        [var version] => version,
        _ => "unknown",
    };
}
