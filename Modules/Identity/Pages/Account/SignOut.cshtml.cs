using BirbalAI.Contracts.Identity;
using BirbalAI.Identity.Audit;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace BirbalAI.Identity.Pages.Account;

[AllowAnonymous]
sealed class SignOutModel(IAuditLog audit) : PageModel
{
    public void OnGet() { }

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        if (User.Identity?.IsAuthenticated == true)
            await audit.RecordAsync(User, AuditKinds.SignOut, User.FindFirst(System.Security.Claims.ClaimTypes.Email)?.Value, ct: ct);
        await SignInCookie.SignOutAsync(HttpContext);
        return Redirect("/");
    }
}
