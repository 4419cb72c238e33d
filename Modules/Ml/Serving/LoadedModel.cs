using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using BirbalAI.Contracts.Ml;
using BirbalAI.Ml.Encoder;
using BirbalAI.Ml.Ensemble;
using BirbalAI.Ml.Features;
using BirbalAI.Ml.Onnx;
using BirbalAI.Ml.Registry;
using BirbalAI.Ml.Training;
using Microsoft.ML.OnnxRuntime;
using Onnx;

namespace BirbalAI.Ml.Serving;

/// <summary>A normalised text made ready for a model's components: n-gram features, encoder windows, and the features of what the windows left out.</summary>
sealed record PreparedText(int[]? Features, TokenizedText? Tokens = null, int[]? RestFeatures = null);

/// <summary>Each component's per-category scores for one text (null: the model has no such component, or nothing was left out).</summary>
sealed record ComponentScores(float[]? Ngram, float[]? Encoder, float[]? Rest);

/// <summary>The component that drove a category's score: the larger share of the combined logit, or the n-gram model alone on text the encoder did not read.</summary>
enum Driver { Ngram, Encoder, Rest }

/// <summary>
/// One model version ready to serve, of any kind (<see cref="ModelKinds"/>): its ONNX Runtime sessions — the n-gram
/// classifier with its featuriser and what each feature adds to each category's logit (computed once from the
/// weights in the ONNX file, which explains a score), the encoder with its heads and tokenizer — and an ensemble's
/// combination. Leased: the catalogue holds one lease while the version is loaded, every request holds one while it
/// runs, and the sessions are disposed when the last lease goes, so a request that started on a version finishes on
/// it after a swap.
/// </summary>
sealed class LoadedModel
{
    readonly OnnxScorer? scorer;
    readonly EncoderScorer? encoder;
    readonly Combination? combination;
    readonly Lazy<float[]>? contributions;   // [buckets × categories]: embedding · category weights (smaller than the embeddings)
    readonly int classes;
    int leases = 1;

    /// <summary>An n-gram version on a session made by the caller.</summary>
    public LoadedModel(ModelVersion version, byte[] onnx, InferenceSession session) : this(version, onnx, session, null, null) { }

    /// <summary>A version of any kind: its artifacts (<see cref="ModelPackage"/>'s files) on sessions of <paramref name="sessions"/>.</summary>
    public static LoadedModel Create(ModelVersion version, byte[]? ngram, byte[]? encoderOnnx, byte[]? vocabulary, EncoderSettings? settings, SessionFactory sessions,
        ServingOptions? serving = null)
    {
        // The window size is the model's; how many windows a text gets and how large a call may be are the service's.
        if (serving is not null)
            settings = (settings ?? EncoderSettings.Default) with
            {
                MaxWindows = Math.Min(serving.MaxEncoderWindows, (settings ?? EncoderSettings.Default).MaxWindows),
                MaxBatchTokens = Math.Max(serving.MaxEncoderBatchTokens, (settings ?? EncoderSettings.Default).WindowTokens),
            };
        var hasNgram = version.Kind is ModelKinds.Ngram or ModelKinds.Ensemble;
        var hasEncoder = version.Kind is ModelKinds.Encoder or ModelKinds.Ensemble;
        if (hasNgram && ngram is null) throw new InvalidDataException($"model v{version.Number} ({version.Kind}) has no n-gram artifact");
        if (hasEncoder && (encoderOnnx is null || vocabulary is null)) throw new InvalidDataException($"model v{version.Number} ({version.Kind}) has no encoder artifact");
        var session = hasNgram ? sessions.Create(ngram!) : null;
        EncoderScorer? encoderScorer = null;
        try
        {
            encoderScorer = hasEncoder ? new EncoderScorer(sessions.Create(encoderOnnx!), new EncoderTokenizer(vocabulary!, settings ?? EncoderSettings.Default)) : null;
            return new LoadedModel(version, ngram, session, encoderScorer, version.Kind == ModelKinds.Ensemble
                ? version.CombinationWeights ?? throw new InvalidDataException($"model v{version.Number} is an ensemble without a combination") : null);
        }
        catch
        {
            session?.Dispose();
            encoderScorer?.Dispose();
            throw;
        }
    }

    /// <summary>A model folder's package, unregistered (offline scoring: the evaluation bench, tests), as version 0.</summary>
    public static LoadedModel FromPackage(ModelPackage package, SessionFactory sessions)
    {
        var card = package.Card;
        var version = new ModelVersion
        {
            Id = Guid.Empty, Number = 0, Categories = [.. card.Categories], Thresholds = card.Thresholds, Kind = card.Kind,
            Featurizer = System.Text.Json.JsonSerializer.Serialize(card.Featurizer, ModelTraining.Json), Source = card.Source ?? "",
            Combination = card.Combination is null ? null : System.Text.Json.JsonSerializer.Serialize(card.Combination, ModelTraining.Json),
        };
        var settings = card.Components?.FirstOrDefault(c => c.Kind == ModelKinds.Encoder)?.EncoderSettings;
        return Create(version, package.Ngram, package.Encoder, package.Vocabulary, settings, sessions);
    }

    /// <summary>Served scores of raw texts in the given languages, as the moderator computes them (offline: no batcher, no limits).</summary>
    public float[][] ScoreTexts(IReadOnlyList<string> texts, IReadOnlyList<string?> languages, int maxBatchFeatures = OnnxScorer.DefaultBatchFeatures)
    {
        var prepared = texts.AsParallel().AsOrdered().Select((t, i) => Prepare(Text.TextNormalizer.Normalize(t), language: languages[i])).ToArray();
        var components = Score(prepared, maxBatchFeatures);
        return [.. components.Select((c, i) => Combine(c, languages[i]).Scores)];
    }

    LoadedModel(ModelVersion version, byte[]? onnx, InferenceSession? session, EncoderScorer? encoder, Combination? combination)
    {
        Version = version;
        Ref = new ModelRef(version.Id, version.Number);
        classes = version.Categories.Length;
        this.encoder = encoder;
        this.combination = combination;
        if (encoder is not null && !encoder.Categories.SequenceEqual(version.Categories))
            throw new InvalidDataException($"model v{version.Number}: the encoder's categories differ from the version's");
        if (session is null || onnx is null) return;
        Featurizer = new Featurizer(version.FeaturizerSettings);
        scorer = new OnnxScorer(session, version.FeaturizerSettings);
        // Built when first needed (only flagged texts are explained). A format-4 graph holds the table itself; older
        // ones hold the embeddings and the output weights, multiplied here.
        contributions = new Lazy<float[]>(() =>
        {
            var graph = ModelProto.Parser.ParseFrom(onnx).Graph;
            if (graph.Initializer.Any(t => t.Name == OnnxExport.ContributionsInitializer)) return Floats(graph, OnnxExport.ContributionsInitializer, out _);
            var embeddings = Floats(graph, "embeddings", out var shape);       // [buckets × dim]
            var transposed = Floats(graph, "weights_out", out _);              // [dim × categories]
            int buckets = (int)shape[0], dim = (int)shape[1];
            var weights = new float[classes * dim];
            for (var d = 0; d < dim; d++)
                for (var c = 0; c < classes; c++) weights[c * dim + d] = transposed[d * classes + c];
            var table = new float[(long)buckets * classes];
            for (var b = 0; b < buckets; b++)
            {
                var row = embeddings.AsSpan(b * dim, dim);
                for (var c = 0; c < classes; c++) table[(long)b * classes + c] = TensorPrimitives.Dot(row, weights.AsSpan(c * dim, dim));
            }
            return table;
        });
    }

    public ModelVersion Version { get; }
    public ModelRef Ref { get; }
    public string Kind => Version.Kind;

    /// <summary>The n-gram component's featuriser; null for an encoder-only version.</summary>
    public Featurizer? Featurizer { get; }
    public bool HasNgram => scorer is not null;
    public bool HasEncoder => encoder is not null;
    public IReadOnlyList<string> Categories => Version.Categories;

    /// <summary>The n-gram component's scores (an n-gram version's served scores).</summary>
    public float[][] Score(IReadOnlyList<int[]> features, int maxBatchFeatures = OnnxScorer.DefaultBatchFeatures) =>
        (scorer ?? throw new InvalidOperationException($"model v{Ref.Number} has no n-gram component")).ScoreAll(features, maxBatchFeatures);

    /// <summary>
    /// What each component needs of a normalised text, computed on the caller's thread: n-gram features, encoder
    /// windows and, when the windows stop short of the end, the n-gram features of the rest.
    /// </summary>
    public PreparedText Prepare(string normalized, int[]? features = null, string? language = null)
    {
        features ??= Featurizer?.Featurize(normalized);
        // An ensemble leaves some languages to the n-gram model: their texts are not encoded at all.
        if (encoder is null || (combination is not null && !combination.UsesEncoder(language))) return new PreparedText(features);
        var tokens = encoder.Tokenizer.Tokenize(normalized);
        var rest = Featurizer is not null && !tokens.Coverage.Complete && tokens.Coverage.CoveredChars < normalized.Length
            ? Featurizer.Featurize(normalized[tokens.Coverage.CoveredChars..]) : null;
        return new PreparedText(features, tokens, rest is { Length: > 0 } ? rest : null);
    }

    /// <summary>Every component's scores for these texts: one n-gram call (rests included) and the encoder's calls, within their token budgets.</summary>
    public ComponentScores[] Score(IReadOnlyList<PreparedText> texts, int maxBatchFeatures)
    {
        float[][]? ngram = null, rest = null, encoded = null;
        if (scorer is not null)
        {
            var features = new List<int[]>(texts.Count);
            foreach (var text in texts) features.Add(text.Features!);
            var rests = new List<int>();
            for (var i = 0; i < texts.Count; i++)
                if (texts[i].RestFeatures is { } r) { features.Add(r); rests.Add(i); }
            var scores = scorer.ScoreAll(features, maxBatchFeatures);
            ngram = scores[..texts.Count];
            if (rests.Count > 0)
            {
                rest = new float[texts.Count][];
                for (var k = 0; k < rests.Count; k++) rest[rests[k]] = scores[texts.Count + k];
            }
        }
        if (encoder is not null)
        {
            var tokenized = Enumerable.Range(0, texts.Count).Where(i => texts[i].Tokens is not null).ToArray();
            if (tokenized.Length > 0)
            {
                var scores = encoder.ScoreTokenized([.. tokenized.Select(i => texts[i].Tokens!)]);
                encoded = new float[texts.Count][];
                for (var k = 0; k < tokenized.Length; k++) encoded[tokenized[k]] = scores[k];
            }
        }
        var result = new ComponentScores[texts.Count];
        for (var i = 0; i < result.Length; i++) result[i] = new ComponentScores(ngram?[i], encoded?[i], rest?[i]);
        return result;
    }

    /// <summary>The served scores of one text and, per category, the component that drove each.</summary>
    public (float[] Scores, Driver[] Drivers) Combine(ComponentScores components, string? language)
    {
        var scores = new float[classes];
        var drivers = new Driver[classes];
        for (var c = 0; c < classes; c++)
        {
            if (combination is not null && components.Encoder is not null)
            {
                var (score, ngramPart, encoderPart) = combination.Combine(c, language, components.Ngram![c], components.Encoder![c]);
                (scores[c], drivers[c]) = (score, encoderPart > ngramPart ? Driver.Encoder : Driver.Ngram);
            }
            else if (components.Ngram is { } ngram) (scores[c], drivers[c]) = (ngram[c], Driver.Ngram);
            else (scores[c], drivers[c]) = (components.Encoder![c], Driver.Encoder);
            // What the encoder did not read is scored by the n-gram model alone: the higher score stands.
            if (components.Rest is { } rest && rest[c] > scores[c]) (scores[c], drivers[c]) = (rest[c], Driver.Rest);
        }
        return (scores, drivers);
    }

    /// <summary>
    /// The n-grams that raised <paramref name="category"/>'s logit most: each occurrence adds
    /// embedding·weights/n (the model averages embeddings), summed per distinct n-gram, largest first; words and
    /// phrases made only of <paramref name="language"/>'s function words are left out (<see cref="Text.FunctionWords"/>).
    /// </summary>
    public IReadOnlyList<Contribution> Explain(int[] ids, string[] ngrams, int category, int top, string? language = null)
    {
        if (contributions is null) return [];
        var table = contributions.Value;
        var totals = new Dictionary<string, float>();
        for (var i = 0; i < ids.Length; i++)
            totals[ngrams[i]] = totals.GetValueOrDefault(ngrams[i]) + table[(long)ids[i] * classes + category] / ids.Length;
        return [.. totals.Where(t => t.Value > 0 && !Text.FunctionWords.Only(t.Key, language)).OrderByDescending(t => t.Value).ThenBy(t => t.Key, StringComparer.Ordinal)
            .Take(top).Select(t => new Contribution(t.Key, t.Value))];
    }

    public bool TryAcquire()
    {
        while (true)
        {
            var current = Volatile.Read(ref leases);
            if (current == 0) return false;   // already retired and released
            if (Interlocked.CompareExchange(ref leases, current + 1, current) == current) return true;
        }
    }

    public void Release()
    {
        if (Interlocked.Decrement(ref leases) != 0) return;
        scorer?.Dispose();
        encoder?.Dispose();
    }

    /// <summary>True once the last lease is gone and the session disposed.</summary>
    public bool IsDisposed => Volatile.Read(ref leases) == 0;

    static float[] Floats(GraphProto graph, string name, out long[] shape)
    {
        var tensor = graph.Initializer.Single(t => t.Name == name);
        shape = [.. tensor.Dims];
        return MemoryMarshal.Cast<byte, float>(tensor.RawData.Span).ToArray();
    }
}
