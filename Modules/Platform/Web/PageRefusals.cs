using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace BirbalAI.Platform.Web;

/// <summary>How every module's pages refuse bad input: the message in the page's alert, the status, the typed values kept.</summary>
public static class PageRefusals
{
    /// <summary>Shows <paramref name="message"/> in the page's alert and answers with <paramref name="status"/>; what was typed stays in the form.</summary>
    public static void Refuse(this PageModel page, string message, int status = StatusCodes.Status400BadRequest)
    {
        page.ModelState.AddModelError("", message);
        page.Response.StatusCode = status;
    }
}
