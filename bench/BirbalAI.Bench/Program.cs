using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using BirbalAI.Ml;
using BirbalAI.Ml.Data;
using BirbalAI.Ml.Evaluation;
using BirbalAI.Ml.Features;
using BirbalAI.Ml.Onnx;
using BirbalAI.Ml.Starter;
using BirbalAI.Ml.Text;
using BirbalAI.Ml.Training;

// Our trainer and batch scorer against `fasttext` on the same split, with the same epochs, dimension,
// buckets and n-gram ranges, early stopping off. Both read the same normalised text, so the comparison is
// of the learners, not of the normaliser. Usage: BirbalAI.Bench RESULTS.json [DATA.jsonl|csv]; the figures are
// merged into RESULTS.json (other benchmarks' keys stay).
if (args is ["eval", var evalResults, var evalModel, var evalDirectory])
    return BirbalAI.Bench.EvalBench.Run(evalResults, evalModel, evalDirectory);
if (args is ["watched", var watchedResults, var watchedTexts])
    return BirbalAI.Bench.WatchedWordsBench.Run(watchedResults, watchedTexts);
if (args is ["annotation", var annotationResults, var annotationApp, var annotationModel])
    return await BirbalAI.Bench.AnnotationBench.RunAsync(annotationResults, annotationApp, annotationModel);
if (args is ["documents", var documentsResults, var documentsApp, var documentsModel, var documentsEval])
    return await BirbalAI.Bench.DocumentsBench.RunAsync(documentsResults, documentsApp, documentsModel, documentsEval);
if (args is ["serving", var servingResults, var appDll, var modelDirectory, ..])
    return await BirbalAI.Bench.ServingBench.RunAsync(servingResults, appDll, modelDirectory);

var output = args.Length > 0 ? args[0] : "results-ml.json";
var dataFile = args.Length > 1 && args[1].Length > 0 ? args[1] : null;
var work = Directory.CreateTempSubdirectory("birbal-bench-").FullName;
var categories = Categories.Default;

var rows = dataFile is null ? StarterCorpus.Examples.Select(e => e.ToLabelled()).ToList() : LabelledData.Read(dataFile, categories);
// The starter corpus splits by example group (related phrasings stay on one side); other data 80/20 by row, fixed seed.
var (trainRows, testRows) = dataFile is null
    ? LabelledData.Split(rows, 0.2, seed: 7)
    : LabelledData.Split(rows.Select(r => r with { Group = null }).ToList(), 0.2, seed: 42);
var train = trainRows.Select(r => r with { Text = TextNormalizer.Normalize(r.Text) }).ToList();
var test = testRows.Select(r => r with { Text = TextNormalizer.Normalize(r.Text) }).ToList();
Console.WriteLine($"data: {dataFile ?? "starter set"}; train {train.Count}, test {test.Count}");

const int epochs = 25, dim = 32, buckets = 200_000, minn = 2, maxn = 5, wordNgrams = 2, threads = 2;
const float lr = 0.2f;
var featurizer = new FeaturizerSettings(minn, maxn, wordNgrams, buckets);
var training = new TrainingSettings(dim, epochs, lr, threads, Seed: 1);
var testLabels = test.Select(r => ModelTraining.Labels(r, categories)).ToList();
var half = Enumerable.Repeat(0.5f, categories.Count).ToArray();

// ---- ours: featurise + train, timed together (fastText's time includes building its features)
var clock = Stopwatch.StartNew();
var features = ModelTraining.Featurize(train, categories, new Featurizer(featurizer));
var (model, _) = new Trainer(training).Train(featurizer, categories, features);
var oursTrainSeconds = clock.Elapsed.TotalSeconds;
var f = new Featurizer(featurizer);
var oursScores = test.Select(r => model.Predict(f.Featurize(r.Text))).ToList();
var oursF1 = Evaluator.Evaluate(categories, oursScores, testLabels, half).MacroF1;
var tuned = ModelTraining.Train(train, categories, featurizer, training, 0.1);
var tunedScores = test.Select(r => tuned.Model.Predict(f.Featurize(r.Text))).ToList();
var oursTunedF1 = Evaluator.Evaluate(categories, tunedScores, testLabels, tuned.Model.Thresholds).MacroF1;
Console.WriteLine($"ours: {oursTrainSeconds:0.00} s, macro-F1 {oursF1:0.000} (tuned {oursTunedF1:0.000})");

// ---- fastText
static string Label(string category) => "__label__" + category;
var trainFile = Path.Combine(work, "train.txt");
File.WriteAllLines(trainFile, train.Select(r => string.Join(' ', (r.Labels.Count == 0 ? ["benign"] : r.Labels).Select(Label)) + " " + r.Text));
var testFile = Path.Combine(work, "test.txt");
File.WriteAllLines(testFile, test.Select(r => r.Text));
var fastTextModel = Path.Combine(work, "fasttext");
clock.Restart();
Run("fasttext", $"supervised -input {trainFile} -output {fastTextModel} -epoch {epochs} -dim {dim} -bucket {buckets} -minn {minn} -maxn {maxn} " +
    $"-wordNgrams {wordNgrams} -loss ova -lr {lr.ToString(CultureInfo.InvariantCulture)} -thread {threads} -verbose 0");
var fastTextTrainSeconds = clock.Elapsed.TotalSeconds;
var predicted = Run("fasttext", $"predict-prob {fastTextModel}.bin {testFile} -1 0.5").Split('\n');
var fastTextScores = test.Select((_, i) =>
{
    var flagged = i < predicted.Length ? predicted[i].Split(' ').Where(t => t.StartsWith("__label__", StringComparison.Ordinal)).Select(t => t["__label__".Length..]).ToHashSet() : [];
    return categories.Select(c => flagged.Contains(c) ? 1f : 0f).ToArray();
}).ToList();
var fastTextF1 = Evaluator.Evaluate(categories, fastTextScores, testLabels, half).MacroF1;
Console.WriteLine($"fastText: {fastTextTrainSeconds:0.00} s, macro-F1 {fastTextF1:0.000}");

// ---- batch throughput on one thread each: our featurise + ONNX batch path against `fasttext predict-prob`
var many = Enumerable.Range(0, (int)Math.Ceiling(50_000.0 / test.Count)).SelectMany(_ => test.Select(r => r.Text)).Take(50_000).ToList();
var manyFile = Path.Combine(work, "many.txt");
File.WriteAllLines(manyFile, many);
clock.Restart();
Run("fasttext", $"predict-prob {fastTextModel}.bin {manyFile} -1 0.5");
var fastTextRate = many.Count / clock.Elapsed.TotalSeconds;
clock.Restart();
using (var scorer = new OnnxScorer(OnnxExport.ToBytes(model), featurizer, threads: 1))
    scorer.Score(many);
var oursRate = many.Count / clock.Elapsed.TotalSeconds;
clock.Restart();
foreach (var text in many) f.Featurize(TextNormalizer.Normalize(text));
var featuriseRate = many.Count / clock.Elapsed.TotalSeconds;
Console.WriteLine($"(of which normalise + featurise alone: {featuriseRate:0} texts/s)");
Console.WriteLine($"throughput: ours {oursRate:0} texts/s, fastText {fastTextRate:0} texts/s");

var results = File.Exists(output)
    ? JsonSerializer.Deserialize<Dictionary<string, object>>(File.ReadAllText(output)) ?? []
    : new Dictionary<string, object>();
foreach (var (key, value) in new Dictionary<string, object>
{
    ["data"] = dataFile ?? "starter corpus (split by example group)",
    ["train_examples"] = train.Count,
    ["test_examples"] = test.Count,
    ["settings"] = new { epochs, dim, buckets, minn, maxn, wordNgrams, lr, threads, early_stopping = false },
    ["train_seconds_ours"] = Math.Round(oursTrainSeconds, 3),
    ["train_seconds_fasttext"] = Math.Round(fastTextTrainSeconds, 3),
    ["train_time_ratio_vs_fasttext"] = Math.Round(oursTrainSeconds / fastTextTrainSeconds, 3),
    ["macro_f1_ours"] = Math.Round(oursF1, 4),
    ["macro_f1_ours_tuned"] = Math.Round(oursTunedF1, 4),
    ["macro_f1_fasttext"] = Math.Round(fastTextF1, 4),
    ["texts_per_second_ours"] = Math.Round(oursRate),
    ["texts_per_second_fasttext"] = Math.Round(fastTextRate),
    ["texts_per_second_normalise_featurise_only"] = Math.Round(featuriseRate),
    ["batch_throughput_ratio_vs_fasttext"] = Math.Round(oursRate / fastTextRate, 3),
}) results[key] = value;
File.WriteAllText(output, JsonSerializer.Serialize(results, new JsonSerializerOptions { WriteIndented = true }));
Directory.Delete(work, recursive: true);
Console.WriteLine($"wrote {Path.GetFullPath(output)}");
return 0;

static string Run(string file, string arguments)
{
    var start = new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
    using var process = Process.Start(start)!;
    var stdout = new StringBuilder();
    process.OutputDataReceived += (_, e) => { if (e.Data is not null) stdout.AppendLine(e.Data); };
    process.BeginOutputReadLine();
    var stderr = process.StandardError.ReadToEnd();
    process.WaitForExit();
    if (process.ExitCode != 0) throw new InvalidOperationException($"{file} {arguments} failed ({process.ExitCode}): {stderr}");
    return stdout.ToString();
}
