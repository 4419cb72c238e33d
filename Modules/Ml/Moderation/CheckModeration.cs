using System.Text.Json;
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
/// POST /api/moderation/check: Birbal's own answer for one text or a batch: language, every category with
/// its score, thresholds, action and explanation, the overall action and content status, and the versions used.
/// </summary>
static class CheckModeration
{
    /// <summary>Give <see cref="Text"/> or <see cref="Texts"/>; <see cref="Model"/> names a version (production when absent).</summary>
    public sealed record Request(string? Text, IReadOnlyList<string>? Texts, string? Model);

    /// <summary>A category's verdict; when not approved, also each component's score and what drove it ("ngram", "encoder", "ngram-rest", "watched-word").</summary>
    public sealed record Category(string Name, float Score, float ReviewThreshold, float RejectThreshold, string Action, IReadOnlyList<Contribution> Explanation,
        IReadOnlyList<ComponentScore>? Components = null, string? DrivenBy = null);
    /// <summary>
    /// <see cref="Flagged"/>: not a plain approval (held, rejected, or flagged for review). <see cref="Matches"/>: the watched
    /// words that matched; <see cref="DisplayText"/>: the text to show when they censor or replace (null when unchanged).
    /// </summary>
    public sealed record Result(string Language, string Action, string Status, bool Flagged, bool FlaggedForReview, string? DisplayText,
        IReadOnlyList<Match> Matches, IReadOnlyList<Category> Categories);
    public sealed record Match(Guid EntryId, string Pattern, string Action, string? Category, string Matched, int Start, int Length, string Explanation);
    public sealed record Response(ModelInfo Model, int PolicyVersion, IReadOnlyList<Result> Results);
    public sealed record ModelInfo(Guid Id, int Number, string Name);

    public static void Map(RouteGroupBuilder moderation) => moderation.MapPost("/check", Handle)
        .RequireAuthorization(Policies.Member)
        .WithSummary("Moderate one text or a batch, with scores, actions, explanations and versions")
        .Accepts<Request>("application/json")
        .Produces<Response>()
        .ProducesProblem(StatusCodes.Status400BadRequest)
        .ProducesProblem(StatusCodes.Status404NotFound)
        .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
        .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    static async Task<IResult> Handle(HttpRequest http, IModerator moderator, ModelRegistry registry, IOptions<ModerationLimits> options, CancellationToken ct)
    {
        var limits = options.Value;
        var (json, failure) = await RequestBody.ReadJsonAsync(http, limits, ct);
        if (failure is not null) return Problem(failure);
        Request? request;
        using (json)
        {
            try { request = json!.Deserialize<Request>(Json); }
            catch (JsonException e) { return Problem(new RequestBody.Failure(400, $"The body does not match {{text}} or {{texts: []}}: {e.Message}")); }
        }
        if (request is null || (request.Text is null) == (request.Texts is null))
            return Problem(new RequestBody.Failure(400, "Give either \"text\" (one string) or \"texts\" (an array of strings), not both.", "text"));
        var texts = request.Texts ?? [request.Text!];
        if (texts.Any(t => t is null)) return Problem(new RequestBody.Failure(400, "texts: every item must be a string.", "texts"));
        if (RequestBody.CheckLimits(texts, limits, request.Texts is null ? "text" : "texts") is { } tooMuch) return Problem(tooMuch);
        var (version, unknown) = await RequestBody.ResolveModelAsync(request.Model, registry, openAiNames: false, ct);
        if (unknown is not null) return Problem(unknown);

        IReadOnlyList<ModerationVerdict> verdicts;
        try { verdicts = await moderator.ModerateAsync(texts, version, ct); }
        catch (Exception e) when (RequestBody.FromException(e) is { } known) { return Problem(known); }
        var model = verdicts[0].Model;
        return TypedResults.Ok(new Response(new ModelInfo(model.Id, model.Number, model.Name), verdicts[0].PolicyVersion,
            [.. verdicts.Select(v => new Result(v.Language, v.Action.Name(), v.Action.ToContentStatus(), v.Flagged, v.FlaggedForReview, v.DisplayText,
                [.. v.Matches.Select(m => new Match(m.EntryId, m.Pattern, m.Action, m.Category, m.Matched, m.Start, m.Length, m.Explanation))],
                [.. v.Categories.Select(c => new Category(c.Category, c.Score, c.ReviewThreshold, c.RejectThreshold, c.Action.Name(), c.Explanation, c.Components, c.DrivenBy))]))]));
    }

    static IResult Problem(RequestBody.Failure failure) => TypedResults.Problem(failure.Message, statusCode: failure.Status,
        title: failure.Status switch
        {
            404 => "Unknown model version",
            413 => "Request too large",
            503 => "No model to moderate with",
            _ => "Invalid moderation request",
        });
}
