using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace BirbalAI.Platform.Web;

/// <summary>
/// Error handling as the outermost middleware, so it wraps everything a module (or a test) adds:
/// under /api every error is RFC 7807 problem details; pages get the host's error page. The API's own guards (body size,
/// cross-site requests) run here too, so they hold for every module's endpoints.
/// </summary>
sealed class ErrorHandlingStartupFilter : IStartupFilter
{
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.UseWhen(RequestKinds.IsApi, api =>
        {
            api.UseExceptionHandler();
            api.UseStatusCodePages();
            api.Use(RateLimits.LimitBodyAsync);
            api.Use(CrossSiteRequests.CheckAsync);
        });
        // gRPC answers with its own status codes: no error page re-executed into a gRPC response.
        app.UseWhen(c => !RequestKinds.IsApi(c) && !RequestKinds.IsGrpc(c), pages =>
        {
            pages.UseExceptionHandler("/Error");
            pages.UseStatusCodePagesWithReExecute("/Error", "?code={0}");
        });
        next(app);
    };
}
