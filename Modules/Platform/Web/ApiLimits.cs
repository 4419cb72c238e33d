using System.ComponentModel.DataAnnotations;
using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace BirbalAI.Platform.Web;

public sealed class ApiLimitsOptions
{
    public const string Section = "Api";

    /// <summary>Largest request body /api and /v1 accept, in bytes; larger ones get 413.</summary>
    [Range(1024, 1024L * 1024 * 1024)] public long MaxRequestBodyBytes { get; set; } = 1024 * 1024;
}

/// <summary>
/// An endpoint with a body limit of its own instead of Api:MaxRequestBodyBytes (an upload): requests to exactly
/// <see cref="Method"/> <see cref="Path"/> are held to <see cref="MaxBytes"/>, and a refusal names <see cref="Setting"/>.
/// </summary>
public sealed record RequestBodyLimit(string Method, string Path, Func<IServiceProvider, long> MaxBytes, string Setting);

public static class RateLimits
{
    /// <summary>429 with Retry-After and problem details (or the error page for pages), for every limiter.</summary>
    public static async ValueTask RejectAsync(OnRejectedContext context, CancellationToken ct)
    {
        var http = context.HttpContext;
        var retryAfter = context.Lease.TryGetMetadata(System.Threading.RateLimiting.MetadataName.RetryAfter, out var wait)
            ? Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)) : 60;
        http.Response.Headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);
        if (RequestKinds.IsGrpc(http))
        {
            // A trailers-only gRPC answer: RESOURCE_EXHAUSTED, which gRPC clients understand (an HTTP 429 they would call UNAVAILABLE).
            http.Response.StatusCode = StatusCodes.Status200OK;
            http.Response.ContentType = "application/grpc";
            http.Response.Headers["grpc-status"] = "8";
            http.Response.Headers["grpc-message"] = $"Too many requests: try again in {retryAfter} s.";
            return;
        }
        http.Response.StatusCode = StatusCodes.Status429TooManyRequests;
        await http.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            ProblemDetails =
            {
                Status = StatusCodes.Status429TooManyRequests,
                Title = "Too many requests",
                Detail = $"Slow down: try again in {retryAfter} s.",
            },
        });
    }

    /// <summary>Refuses bodies above <see cref="ApiLimitsOptions.MaxRequestBodyBytes"/> before anything reads them.</summary>
    internal static async Task LimitBodyAsync(HttpContext context, Func<Task> next)
    {
        var own = context.RequestServices.GetServices<RequestBodyLimit>().FirstOrDefault(l =>
            string.Equals(l.Method, context.Request.Method, StringComparison.OrdinalIgnoreCase)
            && string.Equals(l.Path.TrimEnd('/'), context.Request.Path.Value?.TrimEnd('/'), StringComparison.OrdinalIgnoreCase));
        var max = own?.MaxBytes(context.RequestServices) ?? context.RequestServices.GetRequiredService<IOptions<ApiLimitsOptions>>().Value.MaxRequestBodyBytes;
        var setting = own?.Setting ?? "Api:MaxRequestBodyBytes";
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature) feature.MaxRequestBodySize = max;
        if (context.Request.ContentLength > max)
        {
            context.Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
            await context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
            {
                HttpContext = context,
                ProblemDetails = { Status = 413, Title = "Request body too large", Detail = $"The limit is {max} bytes ({setting})." },
            });
            return;
        }
        await next();
    }
}
