using BirbalAI.Platform.Web;
using BirbalAI.Identity.Users;
using Dapper;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;
using Npgsql;

namespace BirbalAI.Identity.Pages.Account;

[AllowAnonymous]
sealed class SetupModel(NpgsqlDataSource db, UserAdministration users, IOptions<IdentityOptions> options) : PageModel
{
    [BindProperty] public string? Email { get; set; }
    [BindProperty] public string? DisplayName { get; set; }
    [BindProperty] public string? Password { get; set; }
    public int MinPasswordLength => options.Value.MinPasswordLength;

    public async Task<IActionResult> OnGetAsync(CancellationToken ct) => await AnyUserAsync(ct) ? NotFound() : Page();

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        if (await AnyUserAsync(ct)) return NotFound();
        try
        {
            var admin = await users.CreateFirstAdminAsync(Email ?? "", DisplayName ?? "", Password ?? "", ct);
            await SignInCookie.SignInAsync(HttpContext, admin);
            return Redirect("/admin/identity/users");
        }
        catch (IdentityRuleException e)
        {
            this.Refuse(e.Message);
            return Page();
        }
    }

    async Task<bool> AnyUserAsync(CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return await Users.Users.AnyAsync(connection, ct);
    }
}
