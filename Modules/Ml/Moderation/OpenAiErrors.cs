using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http;

namespace BirbalAI.Ml.Moderation;

/// <summary>
/// OpenAI's error envelope <c>{"error":{"message","type","param","code"}}</c> for everything under /v1: the
/// endpoint's own refusals and, as a problem-details writer placed before the default one, every error the
/// pipeline writes there (401, 413, 429, 500…), so OpenAI's SDKs read our errors as theirs.
/// </summary>
sealed class OpenAiErrors : IProblemDetailsWriter
{
    public sealed record Error(string Message, string Type, string? Param, string? Code);
    public sealed record Envelope(Error Error);

    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = JsonIgnoreCondition.Never };

    public static IResult Result(RequestBody.Failure failure, string? code = null) =>
        Results.Json(For(failure.Status, failure.Message, failure.Param, code), Json, statusCode: failure.Status);

    public static Envelope For(int status, string message, string? param = null, string? code = null) => new(new Error(message,
        status switch
        {
            429 => "requests",
            >= 500 => "server_error",
            _ => "invalid_request_error",
        },
        param,
        code ?? status switch
        {
            401 => "invalid_api_key",
            404 => "not_found",
            413 => "request_too_large",
            429 => "rate_limit_exceeded",
            _ => null,
        }));

    public bool CanWrite(ProblemDetailsContext context) => context.HttpContext.Request.Path.StartsWithSegments("/v1");

    public ValueTask WriteAsync(ProblemDetailsContext context)
    {
        var status = context.ProblemDetails.Status ?? context.HttpContext.Response.StatusCode;
        var message = status switch
        {
            401 => "Missing or invalid API key: send a Birbal API key (bk_…) or token as 'Authorization: Bearer …'.",
            403 => "This key may not call this endpoint.",
            _ => context.ProblemDetails.Detail ?? context.ProblemDetails.Title ?? "The request failed.",
        };
        context.HttpContext.Response.StatusCode = status;
        return new ValueTask(context.HttpContext.Response.WriteAsJsonAsync(For(status, message), Json));
    }
}
