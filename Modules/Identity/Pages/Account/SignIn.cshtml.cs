using BirbalAI.Platform.Web;
using System.Globalization;
using BirbalAI.Identity.SignIn;
using Dapper;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Npgsql;

namespace BirbalAI.Identity.Pages.Account;

[AllowAnonymous]
sealed class SignInModel(PasswordSignIn signIn, NpgsqlDataSource db) : PageModel
{
    [BindProperty(SupportsGet = true)] public string? ReturnUrl { get; set; }
    [BindProperty] public string? Email { get; set; }
    [BindProperty] public string? Password { get; set; }

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        // A fresh installation has nobody to sign in: first-run setup instead.
        if (!await Users.Users.AnyAsync(connection, ct))
            return Redirect("/account/setup");
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(Email) || string.IsNullOrEmpty(Password) || Email.Length > 254 || Password.Length > 256)
            return Refuse(StatusCodes.Status400BadRequest, "Enter your email and password.");
        var result = await signIn.VerifyAsync(Email, Password, HttpContext.Connection.RemoteIpAddress?.ToString(), ct);
        switch (result.Outcome)
        {
            case SignInOutcome.Success:
                await SignInCookie.SignInAsync(HttpContext, result.User!);
                return LocalRedirect(SignInCookie.SafeReturnUrl(ReturnUrl));
            case SignInOutcome.LockedOut:
                return Refuse(StatusCodes.Status401Unauthorized,
                    $"This account is locked after too many failed attempts. Try again after {result.LockedUntil:HH:mm} UTC, or ask an Admin for a reset link.");
            case SignInOutcome.Throttled:
                var seconds = Math.Max(1, (int)Math.Ceiling(result.RetryAfter?.TotalSeconds ?? 60));
                Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
                return Refuse(StatusCodes.Status429TooManyRequests, $"Too many sign-in attempts. Try again in {seconds} s.");
            default:
                return Refuse(StatusCodes.Status401Unauthorized, "Wrong email or password.");
        }
    }

    PageResult Refuse(int status, string message)
    {
        ModelState.AddModelError("", message);
        Response.StatusCode = status;
        Password = null;
        return Page();
    }
}
