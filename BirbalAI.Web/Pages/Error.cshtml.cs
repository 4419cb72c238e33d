using System.Diagnostics;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace BirbalAI.Web.Pages;

[AllowAnonymous, IgnoreAntiforgeryToken, ResponseCache(Duration = 0, Location = ResponseCacheLocation.None, NoStore = true)]
public sealed class ErrorModel : PageModel
{
    public string Title { get; private set; } = "Something went wrong";
    public string Message { get; private set; } = "The server could not finish this request. Nothing you entered was lost; try again in a moment.";
    public string? TraceId { get; private set; }

    public void OnGet(int? code) => Describe(code);
    public void OnPost(int? code) => Describe(code);

    void Describe(int? code)
    {
        TraceId = Activity.Current?.TraceId.ToString() ?? HttpContext.TraceIdentifier;
        switch (code)
        {
            case 404:
                Title = "Page not found";
                Message = "There is no page at this address.";
                TraceId = null;
                break;
            case 403:
                Title = "Not allowed";
                Message = "Your account may not open this page.";
                break;
            case 429:
                Title = "Too many requests";
                Message = "Slow down a little and try again shortly.";
                break;
        }
        if (code is >= 400 and < 600) Response.StatusCode = code.Value;
    }
}
