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
/// <see cref="IModerator"/>: normalise, featurise (and, for a model with an encoder, detect the language first and
/// tokenise) on the caller's thread, score every component in the micro-batcher, combine, then apply the policy in force and explain every category that is not approved. The policy's
/// watched words are matched while the model scores, and their actions need nothing from it; the model still
/// scores every text, so a verdict always carries the scores too.
/// </summary>
sealed class Moderator(ModelCatalog catalog, MicroBatcher batcher, PolicyStore policies, LanguageDetection languages,
    IOptions<ServingOptions> options, IOptions<ModerationLimits> limits) : IModerator
{
    static readonly Meter Meter = new($"{PlatformModule.TelemetryName}.Ml");
    static readonly Counter<long> Moderated = Meter.CreateCounter<long>("birbal.moderation.texts", description: "Texts moderated, by model version and action");
    static readonly Histogram<double> Duration = Meter.CreateHistogram<double>("birbal.moderation.duration", "ms",
        "Time to moderate one request, by model version and its most severe action (error when it failed)");

    public async Task<ModerationVerdict> ModerateAsync(string text, CancellationToken ct) =>
        (await ModerateAsync([text], null, ct))[0];

    public Task<IReadOnlyList<ModerationVerdict>> ModerateAsync(IReadOnlyList<string> texts, Guid? modelVersion, CancellationToken ct) =>
        ModerateAsync(texts, modelVersion, null, ct);

    /// <summary>
    /// With <paramref name="thresholds"/>, under those instead of the policy's (a draft's, for an impact preview); the watched
    /// words in force still apply, and the verdicts name the policy version in force.
    /// </summary>
    public async Task<IReadOnlyList<ModerationVerdict>> ModerateAsync(IReadOnlyList<string> texts, Guid? modelVersion,
        IReadOnlyDictionary<string, Thresholds>? thresholds, CancellationToken ct)
    {
        if (texts.Count == 0) return [];
        var started = Stopwatch.GetTimestamp();
        var policy = await policies.CurrentAsync(ct);
        if (thresholds is not null) policy = policy with { Thresholds = thresholds };
        var model = await catalog.AcquireAsync(modelVersion, ct);
        var version = new KeyValuePair<string, object?>("model_version", model.Ref.Number);
        var worst = "error";
        try
        {
            var normalized = new string[texts.Count];
            var prepared = new PreparedText[texts.Count];
            var bounds = limits.Value;
            // The language first when the model's components depend on it (an ensemble leaves some to the n-gram model).
            var detected = model.HasEncoder ? [.. texts.Select(languages.Detect)] : (string[]?)null;
            for (var i = 0; i < texts.Count; i++)
            {
                normalized[i] = TextNormalizer.Normalize(texts[i]);
                if (normalized[i].Length > bounds.MaxNormalizedChars)
                    throw new TextTooLargeException(i, $"has {normalized[i].Length} characters once normalised; the limit is {bounds.MaxNormalizedChars} (Ml:Limits:MaxNormalizedChars).");
                var features = model.Featurizer?.Featurize(normalized[i]);
                if (features?.Length > bounds.MaxFeaturesPerText)
                    throw new TextTooLargeException(i, $"makes {features.Length} features; the limit is {bounds.MaxFeaturesPerText} (Ml:Limits:MaxFeaturesPerText).");
                prepared[i] = model.Prepare(normalized[i], features, detected?[i]);
            }
            // Not cancelled while it runs: the lease must outlive the batch that uses the session.
            var scoring = batcher.ScoreAsync(model, prepared);
            detected ??= [.. texts.Select(languages.Detect)];
            var matches = texts.Select((t, i) => policy.Words.Match(t, detected[i])).ToArray();
            var scores = await scoring;
            var verdicts = new ModerationVerdict[texts.Count];
            for (var i = 0; i < texts.Count; i++)
            {
                verdicts[i] = Judge(model, policy, scores[i], detected[i], normalized[i], texts[i], matches[i]);
                Moderated.Add(1, version, new KeyValuePair<string, object?>("action", verdicts[i].Action.Name()));
            }
            worst = verdicts.Max(v => v.Action).Name();
            return verdicts;
        }
        finally
        {
            model.Release();
            Duration.Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds, version, new KeyValuePair<string, object?>("action", worst));
        }
    }

    ModerationVerdict Judge(LoadedModel model, ModerationPolicy policy, ComponentScores components, string language, string normalized,
        string text, IReadOnlyList<WatchedWordMatch> matches)
    {
        var (scores, drivers) = model.Combine(components, language);
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
            IReadOnlyList<ComponentScore>? parts = null;
            string? driver = null;
            if (action != ModerationAction.Approve)
            {
                if (model.Featurizer is { } featurizer)
                {
                    named ??= featurizer.FeaturizeWithNgrams(normalized);
                    explanation = model.Explain(named.Value.Ids, named.Value.Ngrams, c, options.Value.ExplanationSize, language);
                }
                driver = drivers[c] switch { Driver.Encoder => "encoder", Driver.Rest => "ngram-rest", _ => "ngram" };
                parts = Parts(components, c);
            }
            if (added.Contains(name))
            {
                explanation = [.. added[name].Select(m => new Contribution(m.Explanation, 1f)), .. explanation];
                driver = "watched-word";
            }
            categories.Add(new CategoryVerdict(name, score, thresholds.Review, thresholds.Reject, action, explanation, parts, driver));
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

    static IReadOnlyList<ComponentScore> Parts(ComponentScores components, int category)
    {
        var parts = new List<ComponentScore>(3);
        if (components.Ngram is { } ngram) parts.Add(new ComponentScore("ngram", ngram[category]));
        if (components.Encoder is { } encoder) parts.Add(new ComponentScore("encoder", encoder[category]));
        if (components.Rest is { } rest) parts.Add(new ComponentScore("ngram-rest", rest[category]));
        return parts;
    }
}
