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
    public string Version => typeof(IndexModel).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "dev";
}
