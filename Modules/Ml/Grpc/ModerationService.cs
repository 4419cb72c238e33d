using BirbalAI.Contracts.Identity;
using BirbalAI.Contracts.Ml;
using BirbalAI.Ml.Moderation;
using BirbalAI.Ml.Registry;
using BirbalAI.Ml.Serving;
using Grpc.Core;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace BirbalAI.Ml.Grpc;

/// <summary>
/// gRPC <c>birbal.moderation.v1.Moderation</c>: the same moderation as REST, with the same limits; errors as
/// status codes (InvalidArgument, NotFound, Unavailable, Unauthenticated).
/// </summary>
sealed class ModerationService(IModerator moderator, ModelRegistry registry, IOptions<ModerationLimits> limits,
    IOptions<RateLimiterOptions> rateLimits) : Moderation.ModerationBase
{
    public static void Map(IEndpointRouteBuilder app) => app.MapGrpcService<ModerationService>().RequireAuthorization(Policies.Member);

    public override Task<CheckResponse> Check(CheckRequest request, ServerCallContext context) => CheckAsync(request, context.CancellationToken);

    public override async Task CheckStream(IAsyncStreamReader<CheckRequest> requests, IServerStreamWriter<CheckResponse> responses, ServerCallContext context)
    {
        // The call took one permit of the API rate limit, its first message uses it; every further message is a
        // request of its own and takes one more, or one call could carry any number of requests.
        var first = true;
        await foreach (var request in requests.ReadAllAsync(context.CancellationToken))
        {
            if (!first && rateLimits.Value.GlobalLimiter is { } limiter)
            {
                using var lease = await limiter.AcquireAsync(context.GetHttpContext(), 1, context.CancellationToken);
                if (!lease.IsAcquired)
                {
                    var wait = lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)) : 60;
                    throw new RpcException(new Status(StatusCode.ResourceExhausted, $"Too many requests: try again in {wait} s."));
                }
            }
            first = false;
            await responses.WriteAsync(await CheckAsync(request, context.CancellationToken), context.CancellationToken);
        }
    }

    async Task<CheckResponse> CheckAsync(CheckRequest request, CancellationToken ct)
    {
        if (request.RequestId.Length > 200) throw Fail(new RequestBody.Failure(400, "request_id: at most 200 characters."));
        if (RequestBody.CheckLimits(request.Texts, limits.Value, "texts") is { } tooMuch) throw Fail(tooMuch);
        var (version, unknown) = await RequestBody.ResolveModelAsync(request.Model, registry, openAiNames: false, ct);
        if (unknown is not null) throw Fail(unknown);
        IReadOnlyList<ModerationVerdict> verdicts;
        try { verdicts = await moderator.ModerateAsync(request.Texts, version, ct); }
        catch (Exception e) when (RequestBody.FromException(e) is { } known) { throw Fail(known); }

        var model = verdicts[0].Model;
        var response = new CheckResponse
        {
            RequestId = request.RequestId,
            Model = new ModelVersion { Id = model.Id.ToString(), Number = model.Number, Name = model.Name },
            PolicyVersion = verdicts[0].PolicyVersion,
        };
        foreach (var v in verdicts)
        {
            var verdict = new Verdict
            {
                Language = v.Language, Action = v.Action.Name(), Status = v.Action.ToContentStatus(), Flagged = v.Flagged,
                FlaggedForReview = v.FlaggedForReview, DisplayText = v.DisplayText ?? "", HasDisplayText = v.DisplayText is not null,
            };
            verdict.Matches.AddRange(v.Matches.Select(m => new WatchedWordMatch
            {
                EntryId = m.EntryId.ToString(), Pattern = m.Pattern, Action = m.Action, Category = m.Category ?? "", Matched = m.Matched,
                Start = m.Start, Length = m.Length, Explanation = m.Explanation,
            }));
            foreach (var c in v.Categories)
            {
                var category = new CategoryVerdict
                {
                    Category = c.Category, Score = c.Score, ReviewThreshold = c.ReviewThreshold, RejectThreshold = c.RejectThreshold, Action = c.Action.Name(),
                };
                category.Explanation.AddRange(c.Explanation.Select(e => new Contribution { Ngram = e.Ngram, Weight = e.Weight }));
                verdict.Categories.Add(category);
            }
            response.Results.Add(verdict);
        }
        return response;
    }

    static RpcException Fail(RequestBody.Failure failure) => new(new Status(failure.Status switch
    {
        404 => StatusCode.NotFound,
        503 => StatusCode.Unavailable,
        413 => StatusCode.ResourceExhausted,
        _ => StatusCode.InvalidArgument,
    }, failure.Message));
}
