using BirbalAI.Platform.Web;
using BirbalAI.Contracts.Identity;
using BirbalAI.Identity.Audit;
using BirbalAI.Identity.Users;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;
using Npgsql;

namespace BirbalAI.Identity.Pages.Account;

[AllowAnonymous]
sealed class AcceptModel(NpgsqlDataSource db, Invitations.Invitations invitations, UserAdministration users, IAuditLog audit,
    IOptions<IdentityOptions> options) : PageModel
{
    [BindProperty(SupportsGet = true)] public string? Token { get; set; }
    [BindProperty] public string? Password { get; set; }
    [BindProperty] public string? Confirm { get; set; }
    public Invitations.Invitations.Pending? Invitation { get; private set; }
    public int MinPasswordLength => options.Value.MinPasswordLength;

    public async Task OnGetAsync(CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        Invitation = await invitations.FindAsync(connection, Token ?? "", ct);
        if (Invitation is null) Response.StatusCode = StatusCodes.Status404NotFound;
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        Invitation = await invitations.FindAsync(connection, Token ?? "", ct);
        if (Invitation is null)
        {
            Response.StatusCode = StatusCodes.Status404NotFound;
            return Page();
        }
        try
        {
            users.ValidPassword(Password);
            if (Password != Confirm) throw new IdentityRuleException("The two passwords differ.");
        }
        catch (IdentityRuleException e)
        {
            this.Refuse(e.Message);
            return Page();
        }
        var accepted = await invitations.AcceptAsync(connection, Token!, Password!, ct);
        if (accepted is null)
        {
            Invitation = null;
            Response.StatusCode = StatusCodes.Status404NotFound;
            return Page();
        }
        await audit.RecordAsync(new AuditEntry(AuditKinds.InvitationAccepted, accepted.UserId, accepted.Email,
            new Dictionary<string, string?> { ["kind"] = accepted.Kind }), null, ct);
        var user = await Users.Users.FindAsync(connection, accepted.UserId, ct);
        await SignInCookie.SignInAsync(HttpContext, user!);
        return Redirect("/");
    }
}
