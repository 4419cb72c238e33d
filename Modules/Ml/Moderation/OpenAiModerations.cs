using System.Text.Json;
using System.Text.Json.Serialization;
using BirbalAI.Contracts.Identity;
using BirbalAI.Contracts.Ml;
using BirbalAI.Ml.Registry;
using BirbalAI.Ml.Serving;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace BirbalAI.Ml.Moderation;

/// <summary>
/// POST /v1/moderations, a drop-in for OpenAI's: <c>input</c> as a string, an array of strings or an array of
/// <c>{"type":"text","text":…}</c> parts (one multi-modal input, one result); <c>model</c> optional (OpenAI's names mean the production model, a
/// Birbal version means that one). Answers and errors in OpenAI's shapes, so its SDKs work unchanged.
/// </summary>
static class OpenAiModerations
{
    /// <summary>The request as OpenAI documents it; <see cref="Input"/> is a string, strings, or parts.</summary>
    public sealed record Request(JsonElement Input, string? Model);

    public sealed record Result(
        bool Flagged,
        IReadOnlyDictionary<string, bool> Categories,
        [property: JsonPropertyName("category_scores")] IReadOnlyDictionary<string, float> CategoryScores,
        [property: JsonPropertyName("category_applied_input_types")] IReadOnlyDictionary<string, IReadOnlyList<string>> CategoryAppliedInputTypes);

    public sealed record Response(string Id, string Model, IReadOnlyList<Result> Results);

    public static void Map(IEndpointRouteBuilder app) => app.MapPost("/v1/moderations", Handle)
        .RequireAuthorization(Policies.Member)
        .WithTags("OpenAI-compatible")
        .WithSummary("OpenAI-compatible moderation (the official OpenAI SDKs call it unchanged)")
        .Accepts<Request>("application/json")
        .Produces<Response>()
        .Produces<OpenAiErrors.Envelope>(StatusCodes.Status400BadRequest)
        .Produces<OpenAiErrors.Envelope>(StatusCodes.Status404NotFound);

    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    static async Task<IResult> Handle(HttpRequest http, IModerator moderator, ModelRegistry registry, IOptions<ModerationLimits> options, CancellationToken ct)
    {
        var limits = options.Value;
        var (json, failure) = await RequestBody.ReadJsonAsync(http, limits, ct);
        if (failure is not null) return OpenAiErrors.Result(failure);
        List<string> texts;
        string? modelName;
        using (json)
        {
            var root = json!.RootElement;
            if (root.ValueKind != JsonValueKind.Object) return OpenAiErrors.Result(new(400, "The body must be a JSON object with an 'input'."));
            if (!root.TryGetProperty("model", out var model) || model.ValueKind == JsonValueKind.Null) modelName = null;
            else if (model.ValueKind == JsonValueKind.String) modelName = model.GetString();
            else return OpenAiErrors.Result(new(400, "'model' must be a string.", "model"));
            if (!root.TryGetProperty("input", out var input)) return OpenAiErrors.Result(new(400, "'input' is a required property.", "input"));
            if (Texts(input, out texts) is { } invalid) return OpenAiErrors.Result(invalid);
        }
        if (RequestBody.CheckLimits(texts, limits, "input") is { } tooMuch) return OpenAiErrors.Result(tooMuch);
        var (version, unknown) = await RequestBody.ResolveModelAsync(modelName, registry, openAiNames: true, ct);
        if (unknown is not null) return OpenAiErrors.Result(unknown with { Message = $"The model `{modelName}` does not exist or you do not have access to it." }, "model_not_found");

        IReadOnlyList<ModerationVerdict> verdicts;
        try { verdicts = await moderator.ModerateAsync(texts, version, ct); }
        catch (Exception e) when (RequestBody.FromException(e) is { } known) { return OpenAiErrors.Result(known); }
        return Results.Json(new Response($"modr-{Guid.NewGuid():N}", verdicts[0].Model.Name, [.. verdicts.Select(ToResult)]), Json);
    }

    /// <summary>The texts of <paramref name="input"/>, or what is wrong with it in OpenAI's words.</summary>
    static RequestBody.Failure? Texts(JsonElement input, out List<string> texts)
    {
        texts = [];
        switch (input.ValueKind)
        {
            case JsonValueKind.String:
                texts.Add(input.GetString()!);
                return null;
            case JsonValueKind.Array when input.GetArrayLength() == 0:
                return new(400, "'input' is empty: give at least one text.", "input");
            case JsonValueKind.Array when input.EnumerateArray().All(i => i.ValueKind == JsonValueKind.String):
                texts.AddRange(input.EnumerateArray().Select(i => i.GetString()!));
                return null;
            case JsonValueKind.Array:
                // An array of parts is one multi-modal input (one result), as in OpenAI's API: its texts are read together.
                var parts = new List<string>();
                var index = 0;
                foreach (var item in input.EnumerateArray())
                {
                    if (item.ValueKind != JsonValueKind.Object || !item.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
                        return new(400, $"input[{index}]: expected a {{\"type\":\"text\",\"text\":…}} part (an array is either all strings or all parts).", $"input[{index}]");
                    switch (type.GetString())
                    {
                        case "text" when item.TryGetProperty("text", out var text) && text.ValueKind == JsonValueKind.String:
                            parts.Add(text.GetString()!);
                            break;
                        case "text":
                            return new(400, $"input[{index}]: a text part needs a string 'text'.", $"input[{index}].text");
                        case "image_url":
                            return new(400, $"input[{index}]: image inputs are not supported here; this server moderates text only.", $"input[{index}]");
                        default:
                            return new(400, $"input[{index}]: unknown part type '{type.GetString()}'; expected 'text'.", $"input[{index}].type");
                    }
                    index++;
                }
                texts.Add(string.Join("\n", parts));
                return null;
            default:
                return new(400, "'input' must be a string, an array of strings or an array of {\"type\":\"text\",\"text\":…} parts.", "input");
        }
    }

    static readonly IReadOnlyList<string> TextOnly = ["text"];

    static Result ToResult(ModerationVerdict verdict)
    {
        var byName = verdict.Categories.ToDictionary(c => c.Category);
        // Every category of OpenAI's taxonomy is present, then any category the model adds.
        var names = BirbalAI.Ml.Categories.Default.Concat(byName.Keys.Where(k => !BirbalAI.Ml.Categories.Default.Contains(k))).ToList();
        return new Result(
            // Also when watched words censor or replace: an OpenAI client never sees the text to display, so it must not show the original.
            verdict.Flagged || verdict.DisplayText is not null,
            names.ToDictionary(n => n, n => byName.TryGetValue(n, out var c) && c.Action != ModerationAction.Approve),
            names.ToDictionary(n => n, n => byName.TryGetValue(n, out var c) ? c.Score : 0f),
            names.ToDictionary(n => n, n => byName.ContainsKey(n) ? TextOnly : (IReadOnlyList<string>)[]));
    }
}
