using System.Diagnostics;
using BirbalAI.Ml.Data;
using BirbalAI.Ml.Encoder;
using BirbalAI.Ml.Evaluation;
using BirbalAI.Ml.Features;
using BirbalAI.Ml.Text;
using BirbalAI.Ml.Training;

namespace BirbalAI.Ml.Ensemble;

/// <summary>
/// Labelled texts in, an ensemble out. The rows' groups are split into fitting and validation rows; both
/// components (the n-gram classifier on every language, the encoder's heads on the encoder's languages) are
/// trained on the fitting rows and score the validation rows, on which the combination is fitted
/// (<see cref="Stacking"/>) and the thresholds tuned; then both components are trained again on every row and
/// exported with that combination. Texts in other languages are the n-gram model's alone: the encoder is
/// English-trained, and embedding is the expensive step (measured: on the whole corpus the heads added nothing in
/// ar, hi, es, pt and hi-Latn, and 0.02–0.03 PR-AUC in de and fr, for 14 minutes of embedding on two cores). Embeddings come from the
/// cache when the same texts were embedded by the same encoder before. Texts are normalised
/// (<see cref="TextNormalizer"/>) for both components, as the moderator serves them.
/// </summary>
static class EnsembleTraining
{
    public sealed record Result(ModelPackage Package, double EmbedSeconds, bool EmbeddingsFromCache);

    public static Result Train(IReadOnlyList<LabelledText> rows, IReadOnlyList<string> categories, FeaturizerSettings featurizer,
        TrainingSettings training, SentenceEncoder encoder, HeadSettings heads, IReadOnlyCollection<string> encoderLanguages,
        EmbeddingCache? cache, double validationFraction, IReadOnlyList<LabelledText>? test, LanguageDetection? languages, string? source,
        Action<string>? log = null, CancellationToken ct = default)
    {
        var baseRate = training.CalibrationBaseRate ?? 0.05;
        log ??= _ => { };
        var clock = Stopwatch.StartNew();
        var rowLanguages = ModelTraining.Languages(rows, languages) ?? [.. rows.Select(_ => "und")];
        var encoded = Enumerable.Range(0, rows.Count).Where(i => encoderLanguages.Contains(rowLanguages[i])).ToArray();
        if (encoded.Length == 0) throw new ArgumentException($"no training rows in the encoder's languages ({string.Join(", ", encoderLanguages)})");
        var normalized = rows.AsParallel().AsOrdered().Select(r => TextNormalizer.Normalize(r.Text)).ToArray();
        var (fit, validation) = LabelledData.SplitIndices(rows, validationFraction, training.Seed);
        // The two n-gram models need no embeddings: they train on threads of their own while the encoder embeds, so a core
        // is never idle waiting for one of them (on two busy cores the saving is small: the encoder already uses both).
        // Each has its own seeded generator, so the models are the same as when they are trained one after the other.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var ngramFitTraining = Task.Run(() => ModelTraining.Train([.. fit.Select(i => rows[i])], categories, featurizer, training, 0.1, ct: stop.Token), stop.Token);
        var ngramTraining = Task.Run(() => ModelTraining.Train(rows, categories, featurizer, training, 0.1, ct: stop.Token), stop.Token);
        try
        {
            var (embedded, fromCache) = Embed(encoder, [.. encoded.Select(i => normalized[i])], cache, ct);
            var embeddings = new float[rows.Count][];
            for (var k = 0; k < encoded.Length; k++) embeddings[encoded[k]] = embedded[k];
            var embedSeconds = clock.Elapsed.TotalSeconds;
            log($"embedded {encoded.Length} texts ({string.Join(", ", encoderLanguages)}) in {embedSeconds:0.0} s{(fromCache ? " (from the cache)" : "")}");
            var labels = rows.Select(r => ModelTraining.Labels(r, categories)).ToArray();

            // 1. Components on the fitting rows, scored on the validation rows in the encoder's languages.
            var fitEncoded = fit.Where(i => embeddings[i] is not null).ToArray();
            var (headsFit, _) = EncoderHeads.Train([.. fitEncoded.Select(i => embeddings[i])], [.. fitEncoded.Select(i => labels[i])], categories, heads, ct);
            var ngramFit = ngramFitTraining.GetAwaiter().GetResult();
            var features = new Featurizer(featurizer);
            var validationNgram = validation.AsParallel().AsOrdered().Select(i => ngramFit.Model.Predict(features.Featurize(normalized[i]))).ToArray();
            var validationEncoder = validation.Select(i => embeddings[i] is { } e ? headsFit.Predict(e) : null).ToArray();
            var stacked = Enumerable.Range(0, validation.Length).Where(k => validationEncoder[k] is not null).ToArray();   // positions in validation
            var combination = Stacking.Fit(categories, [.. stacked.Select(k => validationNgram[k])], [.. stacked.Select(k => validationEncoder[k]!)],
                [.. stacked.Select(k => labels[validation[k]])], [.. stacked.Select(k => rowLanguages[validation[k]])], baseRate,
                ngramOnly: [.. rowLanguages.Distinct().Where(l => !encoderLanguages.Contains(l))]);
            // Thresholds on every validation row, as served: the other languages by the n-gram model alone.
            var validationAll = Enumerable.Range(0, validation.Length).Select(k => validationEncoder[k] is { } e
                ? Combine(combination, validationNgram[k], e, rowLanguages[validation[k]]) : validationNgram[k]).ToList();
            var thresholds = Evaluator.TuneThresholds(categories.Count, validationAll, [.. validation.Select(i => labels[i])]);
            log($"fitted the combination on {stacked.Length} validation rows (worst ECE {combination.EceMax:0.000}) at {clock.Elapsed.TotalSeconds:0} s");

            // 2. Both components again on every row.
            var ngram = ngramTraining.GetAwaiter().GetResult();
            var (finalHeads, _) = EncoderHeads.Train([.. encoded.Select(i => embeddings[i])], [.. encoded.Select(i => labels[i])], categories, heads, ct);
            var encoderOnnx = EncoderExport.ToBytes(finalHeads, File.ReadAllBytes(encoder.ModelPath), encoder.Tokenizer.Settings);
            log($"trained both components on {rows.Count} rows at {clock.Elapsed.TotalSeconds:0} s");

            // 3. The test rows, if any: the ensemble, and each component on its own (the encoder on its languages' rows).
            EvaluationReport? evaluation = null, ngramEvaluation = null, encoderEvaluation = null;
            if (test is { Count: > 0 })
            {
                var testLanguages = ModelTraining.Languages(test, languages) ?? [.. test.Select(_ => "und")];
                var testNormalized = test.AsParallel().AsOrdered().Select(r => TextNormalizer.Normalize(r.Text)).ToArray();
                var testEncoded = Enumerable.Range(0, test.Count).Where(i => combination.UsesEncoder(testLanguages[i])).ToArray();
                var (testEmbeddings, _) = Embed(encoder, [.. testEncoded.Select(i => testNormalized[i])], cache, ct);
                var testLabels = test.Select(r => ModelTraining.Labels(r, categories)).ToList();
                var n = testNormalized.AsParallel().AsOrdered().Select(t => ngram.Model.Predict(features.Featurize(t))).ToList();
                var combined = n.ToList();
                var e = new List<float[]>();
                for (var k = 0; k < testEncoded.Length; k++)
                {
                    var i = testEncoded[k];
                    e.Add(finalHeads.Predict(testEmbeddings[k]));
                    combined[i] = Combine(combination, n[i], e[k], testLanguages[i]);
                }
                evaluation = Evaluator.Evaluate(categories, combined, testLabels, thresholds, testLanguages, note: source);
                ngramEvaluation = Evaluator.Evaluate(categories, n, testLabels, ngram.Model.Thresholds, testLanguages, note: "ngram component");
                encoderEvaluation = Evaluator.Evaluate(categories, e, [.. testEncoded.Select(i => testLabels[i])], [.. Enumerable.Repeat(0.5f, categories.Count)],
                    [.. testEncoded.Select(i => testLanguages[i])], note: "encoder component");
                log($"test macro PR-AUC: ensemble {evaluation.MacroPrAuc:0.000}, n-gram {ngramEvaluation.MacroPrAuc:0.000}, encoder {encoderEvaluation.MacroPrAuc:0.000} (on its languages)");
            }

            var card = ngram.Card with
            {
                Kind = ModelKinds.Ensemble,
                Thresholds = thresholds,
                Evaluation = evaluation,
                Source = source,
                DataHash = LabelledData.Hash(rows),
                Combination = combination,
                Components =
                [
                    new ComponentCard(ModelKinds.Ngram, ModelPackage.NgramFile, ngramEvaluation),
                    new ComponentCard(ModelKinds.Encoder, ModelPackage.EncoderFile, encoderEvaluation, EncoderFiles.Name, encoder.Tokenizer.Settings, heads,
                        [.. encoderLanguages]),
                ],
            };
            var package = new ModelPackage(card, ngram.Onnx, encoderOnnx, File.ReadAllBytes(encoder.VocabularyPath)).Validate();
            return new Result(package, embedSeconds, fromCache);
        }
        catch
        {
            stop.Cancel();
            throw;
        }
        finally
        {
            // Nothing keeps training behind a failure or a cancellation.
            try { Task.WaitAll(ngramFitTraining, ngramTraining); }
            catch (AggregateException) { }
        }
    }

    /// <summary>The combined scores of one text, as <see cref="Serving.LoadedModel.Combine"/> serves them (without the rest-of-text part).</summary>
    public static float[] Combine(Combination combination, float[] ngram, float[] encoder, string? language)
    {
        var scores = new float[ngram.Length];
        for (var c = 0; c < scores.Length; c++) scores[c] = combination.Combine(c, language, ngram[c], encoder[c]).Score;
        return scores;
    }

    static (float[][] Embeddings, bool FromCache) Embed(SentenceEncoder encoder, string[] texts, EmbeddingCache? cache, CancellationToken ct)
    {
        var fromCache = true;
        EncodedTexts Run(IReadOnlyList<string> t)
        {
            fromCache = false;
            return encoder.Embed(t, ct);
        }
        var encoded = cache is null ? Run(texts) : cache.GetOrAdd(texts, encoder.ModelHash, encoder.Tokenizer.Settings, Run);
        return (encoded.Embeddings, fromCache);
    }
}
