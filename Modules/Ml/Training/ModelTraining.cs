using System.Text.Json;
using System.Text.Json.Serialization;
using BirbalAI.Ml.Data;
using BirbalAI.Ml.Evaluation;
using BirbalAI.Ml.Features;
using BirbalAI.Ml.Onnx;
using BirbalAI.Ml.Text;

namespace BirbalAI.Ml.Training;

/// <summary>What a model directory's model.json says: enough to featurise, score and judge the model.</summary>
sealed record ModelCard(
    IReadOnlyList<string> Categories, float[] Thresholds, FeaturizerSettings Featurizer, TrainingSettings Training,
    [property: JsonPropertyName("data_hash")] string DataHash, int TrainExamples, int ValidationExamples,
    TrainingReport Report, EvaluationReport? Evaluation, string? Source, CalibrationReport? Calibration = null,
    string Kind = ModelKinds.Ngram, IReadOnlyList<ComponentCard>? Components = null, Ensemble.Combination? Combination = null);

/// <summary>
/// What a model version is made of. <c>ngram</c>: the n-gram classifier (model.onnx). <c>encoder</c>: the pretrained
/// sentence encoder with per-category heads in one graph (encoder.onnx) and its vocabulary (vocab.txt).
/// <c>ensemble</c>: both, combined per category and language (<see cref="Ensemble.Combination"/>).
/// </summary>
static class ModelKinds
{
    public const string Ngram = "ngram", Encoder = "encoder", Ensemble = "ensemble";
    public static readonly IReadOnlyList<string> All = [Ngram, Encoder, Ensemble];
}

/// <summary>One component of a version: its kind, its file in the model folder, its settings and its own metrics on the test rows.</summary>
sealed record ComponentCard(string Kind, string File, EvaluationReport? Evaluation,
    string? Encoder = null, [property: JsonPropertyName("encoder_settings")] Encoder.EncoderSettings? EncoderSettings = null,
    [property: JsonPropertyName("head_settings")] Encoder.HeadSettings? HeadSettings = null,
    IReadOnlyList<string>? Languages = null);

/// <summary>How the scores were calibrated: per category the Platt scaling (after the base-rate shift) and its ECE out of fold.</summary>
sealed record CalibrationReport(
    [property: JsonPropertyName("base_rate")] double BaseRate,
    IReadOnlyList<CategoryCalibration> Categories,
    [property: JsonPropertyName("ece_max")] double EceMax);

sealed record CategoryCalibration(string Category, double A, double B,
    [property: JsonPropertyName("fitted_share")] double FittedShare, double Ece);

/// <summary>Data in, a trained and exported model out: normalise and featurise, split, train, tune thresholds, evaluate.</summary>
static class ModelTraining
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };
    public static readonly JsonSerializerOptions Compact = new(JsonSerializerDefaults.Web) { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public sealed record Result(LinearModel Model, byte[] Onnx, ModelCard Card);

    /// <summary>
    /// Trains on <paramref name="rows"/>; <paramref name="validationFraction"/> of them tune the thresholds and,
    /// when asked, stop training early. That split is by row, not by group: thresholds tuned on templates the
    /// model never saw are far too eager on the ones it did (measured: micro-F1 on training templates fell from
    /// 1.0 to 0.72). <paramref name="test"/>, when given, is evaluated; split that one by group.
    /// </summary>
    public static Result Train(IReadOnlyList<LabelledText> rows, IReadOnlyList<string> categories, FeaturizerSettings featurizer,
        TrainingSettings training, double validationFraction = 0.1, IReadOnlyList<LabelledText>? test = null,
        LanguageDetection? languages = null, string? source = null, CancellationToken ct = default,
        IReadOnlyList<LabelledText>? validationRows = null, Action<TrainingProgress>? progress = null)
    {
        // Given validation rows (a snapshot's validation split) are used as they are; else a share of the rows is split off.
        var dataHash = validationRows is null ? LabelledData.Hash(rows) : LabelledData.Hash([.. rows, .. validationRows]);
        var (trainRows, splitOff) = validationRows is not null || validationFraction <= 0 ? ([.. rows], [])
            : LabelledData.Split(rows.Select(r => r with { Group = null }).ToList(), validationFraction, training.Seed);
        validationRows ??= splitOff;
        var features = new Featurizer(featurizer);
        var train = Featurize(trainRows, categories, features);
        var validation = Featurize(validationRows, categories, features);
        var (model, report) = new Trainer(training).Train(featurizer, categories, train, validation, ct, progress);
        CalibrationReport? calibration = null;
        if (validation.Count > 0 && training.CalibrationBaseRate is { } baseRate)
            calibration = Calibrate(model, validation, baseRate);
        if (validation.Count > 0)
            model.Thresholds = Evaluator.TuneThresholds(categories.Count, validation.Select(e => model.Predict(e.Ids)).ToList(), validation.Select(e => e.Labels).ToList());
        var onnx = OnnxExport.ToBytes(model);
        EvaluationReport? evaluation = null;
        if (test is { Count: > 0 }) evaluation = Evaluate(model, test, categories, languages, source);
        var card = new ModelCard(categories, model.Thresholds, featurizer, training, dataHash, train.Count, validation.Count, report, evaluation, source, calibration);
        return new Result(model, onnx, card);
    }

    /// <summary>
    /// Platt scaling per category on the validation rows (never trained on), shifted to <paramref name="baseRate"/>,
    /// folded into the model's last layer (σ(A·(w·h + b) + B) = σ((A·w)·h + A·b + B)), so the exported graph
    /// serves calibrated scores with no extra step. The ECE it reports is cross-fitted and weighted to the base rate.
    /// </summary>
    static CalibrationReport Calibrate(LinearModel model, IReadOnlyList<FeaturizedExample> validation, double baseRate)
    {
        var raw = validation.Select(e => model.Predict(e.Ids)).ToList();
        var categories = new List<CategoryCalibration>();
        for (var c = 0; c < model.Categories.Count; c++)
        {
            var scores = raw.Select(s => (double)s[c]).ToList();
            var labels = validation.Select(e => e.Labels[c]).ToList();
            var share = labels.Count(l => l) / (double)labels.Count;
            if (share == 0 || share == 1)
            {
                categories.Add(new CategoryCalibration(model.Categories[c], 1, 0, share, 0));
                continue;
            }
            var scaling = Calibration.Fit(scores, labels).ForBaseRate(share, baseRate);
            var outOfFold = Calibration.CrossFitted(scores, labels).Select(p => PlattScaling.Sigmoid(PlattScaling.Logit(p) + PlattScaling.Logit(baseRate) - PlattScaling.Logit(share))).ToList();
            var ece = Calibration.ExpectedCalibrationError(outOfFold, labels, baseRate);
            var row = model.WeightRow(c);
            for (var d = 0; d < row.Length; d++) row[d] = (float)(scaling.A * row[d]);
            model.Bias[c] = (float)(scaling.A * model.Bias[c] + scaling.B);
            categories.Add(new CategoryCalibration(model.Categories[c], scaling.A, scaling.B, share, ece));
        }
        return new CalibrationReport(baseRate, categories, categories.Max(c => c.Ece));
    }

    public static EvaluationReport Evaluate(LinearModel model, IReadOnlyList<LabelledText> rows, IReadOnlyList<string> categories,
        LanguageDetection? languages, string? note, double targetPrecision = 0.9)
    {
        var features = new Featurizer(model.Featurizer);
        var scores = rows.AsParallel().AsOrdered().Select(r => model.Predict(features.Featurize(TextNormalizer.Normalize(r.Text)))).ToList();
        return Evaluator.Evaluate(categories, scores, rows.Select(r => Labels(r, categories)).ToList(), model.Thresholds,
            Languages(rows, languages), targetPrecision, note);
    }

    /// <summary>The model's scores of <paramref name="rows"/> (as served: normalised, featurised).</summary>
    public static List<float[]> Scores(LinearModel model, IReadOnlyList<LabelledText> rows)
    {
        var features = new Featurizer(model.Featurizer);
        return rows.AsParallel().AsOrdered().Select(r => model.Predict(features.Featurize(TextNormalizer.Normalize(r.Text)))).ToList();
    }

    public static IReadOnlyList<string>? Languages(IReadOnlyList<LabelledText> rows, LanguageDetection? detector) =>
        rows.All(r => r.Language is not null) ? rows.Select(r => r.Language!).ToList()
        : detector is null ? null
        : rows.AsParallel().AsOrdered().Select(r => r.Language ?? detector.Detect(r.Text)).ToList();

    public static List<FeaturizedExample> Featurize(IReadOnlyList<LabelledText> rows, IReadOnlyList<string> categories, Featurizer features) =>
        rows.AsParallel().AsOrdered().Select(r => new FeaturizedExample(features.Featurize(TextNormalizer.Normalize(r.Text)), Labels(r, categories))).ToList();

    public static bool[] Labels(LabelledText row, IReadOnlyList<string> categories) => categories.Select(row.Labels.Contains).ToArray();

    /// <summary>Writes model.onnx and model.json into <paramref name="directory"/> (see <see cref="ModelPackage.Write"/>).</summary>
    public static void Write(Result result, string directory) => new ModelPackage(result.Card, result.Onnx).Write(directory);

    /// <summary>An n-gram model folder's graph and card; refuses other kinds (read those with <see cref="ModelPackage.Read"/>).</summary>
    public static (byte[] Onnx, ModelCard Card) Read(string directory)
    {
        var package = ModelPackage.Read(directory);
        if (package.Card.Kind != ModelKinds.Ngram) throw new FileNotFoundException($"{directory} holds a {package.Card.Kind} model, not an n-gram one");
        return (package.Ngram!, package.Card);
    }
}
