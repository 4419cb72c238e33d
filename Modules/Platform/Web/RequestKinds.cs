using Microsoft.AspNetCore.Http;

namespace BirbalAI.Platform.Web;

/// <summary>
/// What kind of client a request comes from, decided in one place: error handling, sign-in challenges and rate
/// limits all ask here, so a new kind of endpoint is taught once.
/// </summary>
public static class RequestKinds
{
    /// <summary>REST (/api) and the OpenAI-compatible API (/v1): errors are JSON.</summary>
    public static bool IsApi(HttpContext context) =>
        context.Request.Path.StartsWithSegments("/api") || context.Request.Path.StartsWithSegments("/v1");

    /// <summary>
    /// A gRPC call (any path): errors are gRPC status codes. Media types are case-insensitive, and Grpc.AspNetCore
    /// accepts "Application/GRPC": so must this, or such a call would pass for a page and skip the API's limits.
    /// </summary>
    public static bool IsGrpc(HttpContext context) =>
        context.Request.ContentType?.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase) == true;

    /// <summary>A program, not a person with a browser page: it gets a status (401, 403), never a redirect to sign in.</summary>
    public static bool IsProgram(HttpContext context) =>
        IsApi(context) || IsGrpc(context) || context.Request.Path.StartsWithSegments("/hubs");
}
