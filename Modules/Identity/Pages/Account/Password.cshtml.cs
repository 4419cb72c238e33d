using BirbalAI.Platform.Web;
using BirbalAI.Contracts.Identity;
using BirbalAI.Identity.Users;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;
using Npgsql;

namespace BirbalAI.Identity.Pages.Account;

sealed class PasswordModel(UserAdministration users, NpgsqlDataSource db, IOptions<IdentityOptions> options) : PageModel
{
    [BindProperty] public string? Current { get; set; }
    [BindProperty] public string? Next { get; set; }
    [BindProperty] public string? Confirm { get; set; }
    public bool Changed { get; private set; }
    public int MinPasswordLength => options.Value.MinPasswordLength;

    public void OnGet() { }

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        try
        {
            if (Next != Confirm) throw new IdentityRuleException("The two new passwords differ.");
            await users.ChangePasswordAsync(User.UserId(), Current ?? "", Next ?? "", ct);
        }
        catch (IdentityRuleException e)
        {
            this.Refuse(e.Message);
            return Page();
        }
        // The security stamp changed: renew this session's cookie so only the other sessions end.
        await using var connection = await db.OpenConnectionAsync(ct);
        await SignInCookie.SignInAsync(HttpContext, (await Users.Users.FindAsync(connection, User.UserId(), ct))!);
        Changed = true;
        return Page();
    }
}
