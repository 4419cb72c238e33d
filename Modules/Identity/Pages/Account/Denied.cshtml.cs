using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace BirbalAI.Identity.Pages.Account;

[AllowAnonymous]
sealed class DeniedModel : PageModel
{
    public void OnGet() => Response.StatusCode = Microsoft.AspNetCore.Http.StatusCodes.Status403Forbidden;
}
