using System.Buffers;
using System.Text.Json;
using BirbalAI.Contracts.Ml;
using BirbalAI.Ml.Registry;
using BirbalAI.Ml.Serving;
using Microsoft.AspNetCore.Http;

namespace BirbalAI.Ml.Moderation;

/// <summary>
/// Reading a moderation request: the body within <see cref="ModerationLimits.MaxRequestBytes"/> (also when it
/// comes chunked, without a length), then the texts within the per-input and per-request limits.
/// </summary>
static class RequestBody
{
    public sealed record Failure(int Status, string Message, string? Param = null);

    /// <summary>The JSON body, or why not (413 too large, 400 not JSON).</summary>
    public static async Task<(JsonDocument? Json, Failure? Failure)> ReadJsonAsync(HttpRequest request, ModerationLimits limits, CancellationToken ct)
    {
        var max = limits.MaxRequestBytes;
        if (request.ContentLength > max) return (null, TooLarge(max));
        var buffer = new ArrayBufferWriter<byte>((int)Math.Min(request.ContentLength ?? 4096, max) + 1);
        try
        {
            while (true)
            {
                var read = await request.Body.ReadAsync(buffer.GetMemory(8192), ct);
                if (read == 0) break;
                buffer.Advance(read);
                if (buffer.WrittenCount > max) return (null, TooLarge(max));
            }
        }
        catch (Microsoft.AspNetCore.Http.BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (null, TooLarge(max));
        }
        try
        {
            return (JsonDocument.Parse(buffer.WrittenMemory, new JsonDocumentOptions { MaxDepth = 16 }), null);
        }
        catch (JsonException e)
        {
            return (null, new Failure(400, $"The body is not valid JSON: {e.Message}"));
        }
    }

    static Failure TooLarge(long max) => new(413, $"The request body is larger than {max} bytes (Ml:Limits:MaxRequestBytes).");

    /// <summary>Texts within the configured limits, or the first limit broken.</summary>
    public static Failure? CheckLimits(IReadOnlyList<string> texts, ModerationLimits limits, string param)
    {
        if (texts.Count == 0) return new Failure(400, "Give at least one text.", param);
        if (texts.Count > limits.MaxInputs)
            return new Failure(400, $"At most {limits.MaxInputs} inputs per request (Ml:Limits:MaxInputs), not {texts.Count}.", param);
        for (var i = 0; i < texts.Count; i++)
            if (texts[i].Length > limits.MaxInputChars)
                return new Failure(400, $"Input {i} has {texts[i].Length} characters; the limit is {limits.MaxInputChars} (Ml:Limits:MaxInputChars).", param);
        return null;
    }

    /// <summary>The model a request names: null (production) when it names none; an unknown name is a failure.</summary>
    public static async Task<(Guid? Version, Failure? Failure)> ResolveModelAsync(string? name, ModelRegistry registry, bool openAiNames, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(name) || openAiNames && OpenAiModelNames.Contains(name)) return (null, null);
        if (name.Length <= 100 && await registry.FindAsync(name, ct) is { } version) return (version.Id, null);
        return (null, new Failure(404, $"The model `{(name.Length > 100 ? name[..100] + "…" : name)}` does not exist. Use a Birbal version (birbal-v3, v3 or its id), or omit it for the production model.", "model"));
    }

    /// <summary>OpenAI's moderation model names: each means "the production model" here.</summary>
    public static readonly HashSet<string> OpenAiModelNames = new(StringComparer.Ordinal)
    {
        "omni-moderation-latest", "omni-moderation-2024-09-26", "text-moderation-latest", "text-moderation-stable", "text-moderation-007",
    };

    /// <summary>What the moderator's own exceptions mean for a client.</summary>
    public static Failure? FromException(Exception e) => e switch
    {
        NoProductionModelException => new Failure(503, "No production model is registered yet; an admin registers and promotes one."),
        UnknownModelVersionException u => new Failure(404, $"No model version {u.Version}.", "model"),
        TextTooLargeException t => new Failure(400, t.Message),
        _ => null,
    };
}
