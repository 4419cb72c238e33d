using BirbalAI.Platform.Web;
using BirbalAI.Contracts.Identity;
using BirbalAI.Identity.SignIn;
using BirbalAI.Identity.Users;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;
using Npgsql;

namespace BirbalAI.Identity.Pages.Account;

sealed class PasswordModel(UserAdministration users, PasswordSignIn signIn, NpgsqlDataSource db, IOptions<IdentityOptions> options) : PageModel
{
    [BindProperty] public string? Current { get; set; }
    [BindProperty] public string? Next { get; set; }
    [BindProperty] public string? Confirm { get; set; }
    public bool Changed { get; private set; }
    public int RevokedKeys { get; private set; }
    public int MinPasswordLength => options.Value.MinPasswordLength;

    public void OnGet() { }

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        try
        {
            if (Next != Confirm) throw new IdentityRuleException("The two new passwords differ.");
            if ((Current ?? "").Length > UserAdministration.MaxPasswordLength) throw new IdentityRuleException("The current password is wrong.");
            // The same throttle and lockout as signing in: this form must not be a way to guess the password.
            var check = await signIn.VerifyAsync(User.FindFirst(System.Security.Claims.ClaimTypes.Email)?.Value ?? "", Current ?? "",
                HttpContext.Connection.RemoteIpAddress?.ToString(), ct, signingIn: false);
            switch (check.Outcome)
            {
                case SignInOutcome.Throttled:
                    var seconds = Math.Max(1, (int)Math.Ceiling(check.RetryAfter?.TotalSeconds ?? 60));
                    Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
                    this.Refuse($"Too many attempts. Try again in {seconds} s.", StatusCodes.Status429TooManyRequests);
                    return Page();
                case SignInOutcome.LockedOut:
                    this.Refuse($"Too many wrong passwords: the account is locked until {check.LockedUntil:HH:mm} UTC.", StatusCodes.Status401Unauthorized);
                    return Page();
                case SignInOutcome.Failed:
                    throw new IdentityRuleException("The current password is wrong.");
            }
            RevokedKeys = await users.ChangePasswordAsync(User.UserId(), Current ?? "", Next ?? "", ct);
        }
        catch (IdentityRuleException e)
        {
            this.Refuse(e.Message);
            return Page();
        }
        // The security stamp changed: renew this session's cookie so only the other sessions end.
        await using var connection = await db.OpenConnectionAsync(ct);
        await SignInCookie.SignInAsync(HttpContext, (await Users.Users.FindAsync(connection, User.UserId(), ct))!, SignInCookie.SessionOf(HttpContext));
        Changed = true;
        return Page();
    }
}
