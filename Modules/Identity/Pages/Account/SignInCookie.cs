using BirbalAI.Identity.Users;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Http;

namespace BirbalAI.Identity.Pages.Account;

static class SignInCookie
{
    public static Task SignInAsync(HttpContext http, UserRow user) =>
        http.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme,
            Users.Users.Principal(user, CookieAuthenticationDefaults.AuthenticationScheme),
            new AuthenticationProperties { IsPersistent = false });

    /// <summary>Only a local path: an open redirect would let a link send people elsewhere after signing in.</summary>
    public static string SafeReturnUrl(string? returnUrl, string fallback = "/") =>
        !string.IsNullOrEmpty(returnUrl) && returnUrl.StartsWith('/') && !returnUrl.StartsWith("//", StringComparison.Ordinal)
            && !returnUrl.StartsWith("/\\", StringComparison.Ordinal) ? returnUrl : fallback;
}
