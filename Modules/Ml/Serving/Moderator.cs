using System.Diagnostics;
using System.Diagnostics.Metrics;
using BirbalAI.Contracts.Ml;
using BirbalAI.Ml.Policy;
using BirbalAI.Ml.Text;
using BirbalAI.Ml.WatchedWords;
using BirbalAI.Platform;
using Microsoft.Extensions.Options;

namespace BirbalAI.Ml.Serving;

/// <summary>
/// <see cref="IModerator"/>: normalise, featurise and detect the language on the caller's thread, score in the
/// micro-batcher, then apply the policy in force and explain every category that is not approved. The policy's
/// watched words are matched while the model scores, and their actions need nothing from it; the model still
/// scores every text, so a verdict always carries the scores too.
/// </summary>
sealed class Moderator(ModelCatalog catalog, MicroBatcher batcher, PolicyStore policies, LanguageDetection languages,
    IOptions<ServingOptions> options, IOptions<ModerationLimits> limits) : IModerator
{
    static readonly Meter Meter = new($"{PlatformModule.TelemetryName}.Ml");
    static readonly Counter<long> Moderated = Meter.CreateCounter<long>("birbal.moderation.texts", description: "Texts moderated, by action");
    static readonly Histogram<double> Duration = Meter.CreateHistogram<double>("birbal.moderation.duration", "ms", "Time to moderate one request");

    public async Task<ModerationVerdict> ModerateAsync(string text, CancellationToken ct) =>
        (await ModerateAsync([text], null, ct))[0];

    public async Task<IReadOnlyList<ModerationVerdict>> ModerateAsync(IReadOnlyList<string> texts, Guid? modelVersion, CancellationToken ct)
    {
        if (texts.Count == 0) return [];
        var started = Stopwatch.GetTimestamp();
        var policy = await policies.CurrentAsync(ct);
        var model = await catalog.AcquireAsync(modelVersion, ct);
        try
        {
            var normalized = new string[texts.Count];
            var features = new int[texts.Count][];
            var bounds = limits.Value;
            for (var i = 0; i < texts.Count; i++)
            {
                normalized[i] = TextNormalizer.Normalize(texts[i]);
                if (normalized[i].Length > bounds.MaxNormalizedChars)
                    throw new TextTooLargeException(i, $"has {normalized[i].Length} characters once normalised; the limit is {bounds.MaxNormalizedChars} (Ml:Limits:MaxNormalizedChars).");
                features[i] = model.Featurizer.Featurize(normalized[i]);
                if (features[i].Length > bounds.MaxFeaturesPerText)
                    throw new TextTooLargeException(i, $"makes {features[i].Length} features; the limit is {bounds.MaxFeaturesPerText} (Ml:Limits:MaxFeaturesPerText).");
            }
            // Not cancelled while it runs: the lease must outlive the batch that uses the session.
            var scoring = batcher.ScoreAsync(model, features);
            var detected = texts.Select(languages.Detect).ToArray();
            var matches = texts.Select((t, i) => policy.Words.Match(t, detected[i])).ToArray();
            var scores = await scoring;
            var verdicts = new ModerationVerdict[texts.Count];
            for (var i = 0; i < texts.Count; i++)
            {
                verdicts[i] = Judge(model, policy, scores[i], detected[i], normalized[i], texts[i], matches[i]);
                Moderated.Add(1, new KeyValuePair<string, object?>("action", verdicts[i].Action.Name()));
            }
            return verdicts;
        }
        finally
        {
            model.Release();
            Duration.Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
    }

    ModerationVerdict Judge(LoadedModel model, ModerationPolicy policy, float[] scores, string language, string normalized,
        string text, IReadOnlyList<WatchedWordMatch> matches)
    {
        (int[] Ids, string[] Ngrams)? named = null;
        var added = matches.Where(m => m.Action == WatchedWord.Actions.AddCategory && m.Category is not null).ToLookup(m => m.Category!);
        var categories = new List<CategoryVerdict>(scores.Length);
        var overall = ModerationAction.Approve;
        for (var c = 0; c < scores.Length; c++)
        {
            var name = model.Categories[c];
            var thresholds = policy.For(name);
            // "add-category": the category scores 1.0 for the policy, so its thresholds decide as for a sure model.
            var score = added.Contains(name) ? 1f : scores[c];
            var action = ModerationPolicy.Decide(score, thresholds);
            IReadOnlyList<Contribution> explanation = [];
            if (action != ModerationAction.Approve)
            {
                named ??= model.Featurizer.FeaturizeWithNgrams(normalized);
                explanation = model.Explain(named.Value.Ids, named.Value.Ngrams, c, options.Value.ExplanationSize);
            }
            if (added.Contains(name)) explanation = [.. added[name].Select(m => new Contribution(m.Explanation, 1f)), .. explanation];
            categories.Add(new CategoryVerdict(name, score, thresholds.Review, thresholds.Reject, action, explanation));
            if (action > overall) overall = action;
        }
        // A category the model does not have (one the taxonomy adds): decided on the watched word alone.
        foreach (var group in added.Where(g => !model.Categories.Contains(g.Key)))
        {
            var thresholds = policy.For(group.Key);
            var action = ModerationPolicy.Decide(1f, thresholds);
            categories.Add(new CategoryVerdict(group.Key, 1f, thresholds.Review, thresholds.Reject, action, [.. group.Select(m => new Contribution(m.Explanation, 1f))]));
            if (action > overall) overall = action;
        }
        foreach (var m in matches)
            if (WatchedWord.Actions.Verdict(m.Action) > overall) overall = WatchedWord.Actions.Verdict(m.Action);
        return new ModerationVerdict(language, categories, overall, model.Ref, policy.Version)
        {
            Matches = matches,
            DisplayText = matches.Count == 0 ? null : WatchedWordMatcher.Display(text, matches, policy.Words.Entries),
            FlaggedForReview = matches.Any(m => m.Action == WatchedWord.Actions.Flag),
        };
    }
}
