using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace BirbalAI.Platform.Web;

/// <summary>
/// Forwarded headers from the trusted proxies (<see cref="ProxyOptions"/>), then error handling as the outermost middleware, so it wraps everything a module (or a test) adds:
/// under /api every error is RFC 7807 problem details; pages get the host's error page. The API's own guards (body size,
/// cross-site requests) run here too, so they hold for every module's endpoints.
/// </summary>
sealed class ErrorHandlingStartupFilter : IStartupFilter
{
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        // First of all: behind a trusted proxy every later step sees the client's scheme and address.
        var proxy = app.ApplicationServices.GetRequiredService<IOptions<ProxyOptions>>().Value;
        if (proxy.Entries.Count > 0)
        {
            var forwarded = new ForwardedHeadersOptions
            {
                ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto,
                ForwardLimit = proxy.ForwardLimit,
            };
            forwarded.KnownProxies.Clear();   // loopback by default: only the configured proxies
            forwarded.KnownIPNetworks.Clear();
            foreach (var network in proxy.Networks) forwarded.KnownIPNetworks.Add(network);
            app.UseForwardedHeaders(forwarded);
        }
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
