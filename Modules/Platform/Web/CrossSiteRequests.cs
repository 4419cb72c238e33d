using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace BirbalAI.Platform.Web;

/// <summary>
/// Cross-site request forgery on the API: SameSite=Lax still lets a sibling subdomain or another port of the same
/// host (same-site, not same-origin) send a cookie-carrying POST, and many API writes have no body to make it a
/// preflighted request. So every unsafe (POST, PUT, PATCH, DELETE) /api or /v1 request that rides on the session cookie
/// must come from this origin (Origin, or Referer when a browser sends no Origin, equal to the request's scheme and
/// host) or carry a valid antiforgery token in its header. Requests with a bearer credential (JWT, API key) are
/// not sent by browsers on their own and pass untouched.
/// </summary>
public static class CrossSiteRequests
{
    internal static async Task CheckAsync(HttpContext context, Func<Task> next)
    {
        if (!IsUnsafe(context.Request.Method) || !RidesOnTheSessionCookie(context) || IsSameOrigin(context.Request)
            || await HasValidAntiforgeryTokenAsync(context))
        {
            await next();
            return;
        }
        context.Response.StatusCode = StatusCodes.Status403Forbidden;
        await context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails =
            {
                Status = StatusCodes.Status403Forbidden,
                Title = "Cross-site request refused",
                Detail = "A request signed in with the session cookie must come from this site's own pages (its Origin header) "
                    + "or carry the antiforgery token in its header; programs use an API key or token (Authorization: Bearer).",
            },
        });
    }

    static bool IsUnsafe(string method) =>
        HttpMethods.IsPost(method) || HttpMethods.IsPut(method) || HttpMethods.IsPatch(method) || HttpMethods.IsDelete(method);

    /// <summary>
    /// The way the sign-in scheme chooses: without a bearer Authorization header, the session cookie (if any) signs the
    /// request in. Decided from the request itself, so it holds before authentication runs and whatever the cookie's state.
    /// </summary>
    static bool RidesOnTheSessionCookie(HttpContext context)
    {
        if (context.Request.Headers.Authorization.ToString().StartsWith("Bearer ", StringComparison.Ordinal)) return false;
        var cookie = context.RequestServices.GetService<IOptionsMonitor<CookieAuthenticationOptions>>()?
            .Get(CookieAuthenticationDefaults.AuthenticationScheme).Cookie.Name;
        return cookie is not null && context.Request.Cookies.ContainsKey(cookie);
    }

    /// <summary>Origin (or, without it, Referer) names this request's own scheme and host; "null" and foreign origins do not.</summary>
    static bool IsSameOrigin(HttpRequest request)
    {
        var source = request.Headers.Origin.ToString() is { Length: > 0 } origin ? origin : request.Headers.Referer.ToString();
        if (!Uri.TryCreate(source, UriKind.Absolute, out var uri) || !Uri.TryCreate($"{request.Scheme}://{request.Host.Value}", UriKind.Absolute, out var own))
            return false;
        return string.Equals(uri.GetLeftPart(UriPartial.Authority), own.GetLeftPart(UriPartial.Authority), StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>A page's antiforgery token in the header (RequestVerificationToken). The token is tied to the signed-in user, so sign them in first.</summary>
    static async Task<bool> HasValidAntiforgeryTokenAsync(HttpContext context)
    {
        if (context.RequestServices.GetService<IAntiforgery>() is not { } antiforgery
            || context.RequestServices.GetService<IOptions<AntiforgeryOptions>>()?.Value.HeaderName is not { } header
            || !context.Request.Headers.ContainsKey(header)) return false;
        if (await context.AuthenticateAsync() is { Succeeded: true, Principal: { } principal }) context.User = principal;
        return await antiforgery.IsRequestValidAsync(context);
    }
}
