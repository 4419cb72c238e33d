using System.Globalization;
using System.Text.Json;
using BirbalAI.Ml.Data;
using BirbalAI.Ml.Evaluation;
using BirbalAI.Ml.Features;
using BirbalAI.Ml.Serving;
using BirbalAI.Ml.Text;
using BirbalAI.Ml.Training;
using BirbalAI.Platform;
using Microsoft.Extensions.DependencyInjection;

namespace BirbalAI.Ml.Cli;

/// <summary>`ml train` and `ml eval`: training and judging models from files, no server needed.</summary>
static class MlVerbs
{
    const string TrainUsage = "ml train --data FILE --out DIR [--epochs 25] [--dim 32] [--buckets 200000] [--minn 2] [--maxn 5] [--word-ngrams 2] [--lr 0.2] [--threads 2] [--seed 1] [--validation 0.1] [--early-stopping] [--test FILE]";
    const string EvalUsage = "ml eval --model DIR --data FILE [--target-precision 0.9]";

    const string StarterUsage = "ml starter-data --out FILE   write the starter corpus as one JSONL file (with group and language)";

    const string StarterModelUsage = "ml starter-model --cache DIR   train the starter model into DIR unless it is there; prints its folder";
    const string RegisterUsage = "ml register --model DIR [--promote]   add a trained model folder to the registry (and make it production)";

    const string ImportUsage = "ml import --file FILE [--name NAME]   add labelled examples from a JSONL or CSV file (the engine's format) to the datasets, as import:NAME";
    const string SnapshotUsage = "ml snapshot   take a dataset snapshot (train/validation/test) of every labelled example";

    const string TrainJobUsage = "ml train-job --snapshot s3 [--kind ngram] [--epochs 25] [--dim 32] [--lr 0.2] [--buckets 200000] [--minn 2] [--maxn 5] [--word-ngrams 2] [--seed 1] [--early-stopping] [--wait]   queue a training job (a worker runs it; --wait follows it to the end)";

    const string RescoreUsage = "ml rescore --version v3 [--sources chat.message,documents.chunk] [--preview [--draft ID] [--days 7]] [--wait]   queue a re-scoring run, or an impact preview (a worker runs it; --wait follows it and prints its summary)";
    const string RescoreApplyUsage = "ml rescore-apply RUN   apply a finished re-scoring run (its number or id): publishes the new verdicts; the owners hold, never release";
    const string PromoteUsage = "ml promote VERSION   make a registered version (3, v3, birbal-v3 or its id) production on every replica";

    public static void Add(IServiceCollection services)
    {
        services.AddCliVerb(new CliVerb("ml promote", PromoteUsage, async (sp, args, _, output) =>
        {
            if (args is not [var name]) throw new CliUsageException($"usage: {PromoteUsage}");
            var version = await Registry.PromoteModelVersion.PromoteAsync(sp, name, null, CancellationToken.None)
                ?? throw new CliUsageException($"no model version \"{name}\"; `ml list` shows them");
            await output.WriteLineAsync($"ml promote: v{version.Number} ({version.Id}) is production");
            return 0;
        }));

        services.AddCliVerb(new CliVerb("ml import", ImportUsage, async (sp, args, _, output) =>
        {
            var file = args.Option("--file", ImportUsage);
            var name = args.OptionalOption("--name", ImportUsage, "import")!;
            if (!Datasets.ImportExamples.ImportName().IsMatch(name)) throw new CliUsageException("--name: 1 to 64 letters, digits, '.', '_' or '-'");
            var rows = Read(file);
            var examples = Datasets.Examples.FromFile(rows, name, sp.GetRequiredService<LanguageDetection>().Detect, null);
            await using var connection = await sp.GetRequiredService<Npgsql.NpgsqlDataSource>().OpenConnectionAsync();
            await using var tx = await connection.BeginTransactionAsync();
            var (added, updated) = await Datasets.Examples.UpsertAsync(connection, tx, examples, CancellationToken.None);
            await tx.CommitAsync();
            await output.WriteLineAsync($"ml import: {rows.Count} rows from {Path.GetFullPath(file)} as import:{name}: {added} new, {updated} updated");
            return 0;
        }));

        services.AddCliVerb(new CliVerb("ml snapshot", SnapshotUsage, async (sp, _, _, output) =>
        {
            Datasets.Snapshots.Taken taken;
            try { taken = await sp.GetRequiredService<Datasets.Snapshots>().TakeAsync(null, CancellationToken.None); }
            catch (Datasets.SnapshotException e) { throw new CliUsageException(e.Message); }
            var s = taken.Snapshot;
            await output.WriteLineAsync(taken.Created
                ? $"ml snapshot: {s.Name} ({s.Id}): {s.Examples} examples (train {s.Train}, validation {s.Validation}, test {s.Test}), data hash {s.BlobHash}"
                : $"ml snapshot: nothing changed since {s.Name} ({s.Id}), data hash {s.BlobHash}");
            return 0;
        }));

        services.AddCliVerb(new CliVerb("ml train-job", TrainJobUsage, async (sp, args, _, output) =>
        {
            var d = new TrainingParameters();
            var parameters = new TrainingParameters(args.IntOption("--epochs", TrainJobUsage, d.Epochs, 1, 1000), args.IntOption("--dim", TrainJobUsage, d.Dim, 2, 1024),
                (float)Double(args, "--lr", d.LearningRate, 1e-6, 10), args.IntOption("--buckets", TrainJobUsage, d.Buckets, 1_000, 20_000_000),
                args.IntOption("--minn", TrainJobUsage, d.MinN, 1, 10), args.IntOption("--maxn", TrainJobUsage, d.MaxN, 1, 10),
                args.IntOption("--word-ngrams", TrainJobUsage, d.WordNgrams, 1, 5), args.IntOption("--seed", TrainJobUsage, d.Seed, 0, int.MaxValue),
                args.Contains("--early-stopping"));
            var jobs = sp.GetRequiredService<TrainingJobs>();
            var started = await jobs.StartAsync(args.Option("--snapshot", TrainJobUsage), args.OptionalOption("--kind", TrainJobUsage, ModelKinds.Ngram)!, parameters, "cli", null,
                sp.GetRequiredService<Datasets.Snapshots>(), CancellationToken.None);
            if (started.Job is not { } job) throw new CliUsageException(started.Error!);
            await output.WriteLineAsync($"ml train-job: job #{job.Number} ({job.Id}) queued on s{job.SnapshotNumber}; a worker runs it");
            if (!args.Contains("--wait")) return 0;
            while (true)
            {
                await Task.Delay(1000);
                job = (await jobs.FindAsync(job.Id, CancellationToken.None))!;
                if (job.Active) continue;
                await output.WriteLineAsync($"ml train-job: job #{job.Number} {job.Status}{(job.VersionNumber is { } v ? $": registered v{v}" : job.Error is { } e ? $": {e}" : "")}");
                return job.Status == TrainingJobs.Succeeded ? 0 : 1;
            }
        }));

        services.AddCliVerb(new CliVerb("ml rescore", RescoreUsage, async (sp, args, _, output) =>
        {
            var runs = sp.GetRequiredService<Rescoring.RescoringRuns>();
            var sources = args.OptionalOption("--sources", RescoreUsage, null) is { } listed
                ? listed.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) : [.. Rescoring.RescoringSources.All];
            Rescoring.RescoringRuns.PreviewTerms? preview = null;
            if (args.Contains("--preview"))
            {
                Policy.PolicyDraft? draft = null;
                if (args.OptionalOption("--draft", RescoreUsage, null) is { } id)
                    draft = (Guid.TryParse(id, out var draftId) ? await sp.GetRequiredService<Policy.PolicyDrafts>().FindAsync(draftId, CancellationToken.None) : null)
                        ?? throw new CliUsageException($"--draft: no draft policy {id}");
                var options = sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<Rescoring.RescoringOptions>>().Value;
                preview = new(draft, args.IntOption("--days", RescoreUsage, options.PreviewDays, 1, options.PreviewMaxDays));
            }
            else if (args.Contains("--draft") || args.Contains("--days")) throw new CliUsageException("--draft and --days are for an impact preview: add --preview");
            var started = await runs.StartAsync(args.Option("--version", RescoreUsage), sources, "cli", null, CancellationToken.None, preview);
            if (started.Run is not { } run) throw new CliUsageException(started.Error!);
            var what = run.Preview ? "impact preview" : "run";
            await output.WriteLineAsync($"ml rescore: {what} #{run.Number} ({run.Id}) queued: v{run.VersionNumber} over {run.Total} item(s) of {string.Join(", ", run.Sources)}; a worker runs it");
            if (!args.Contains("--wait")) return 0;
            while (run.Active)
            {
                await Task.Delay(1000);
                run = (await runs.FindAsync(run.Id, CancellationToken.None))!;
            }
            var summary = await runs.SummaryAsync(run.Id, CancellationToken.None);
            await output.WriteLineAsync($"ml rescore: {what} #{run.Number} {run.Status}: {run.Scored} scored, {run.Skipped} skipped{(run.Error is { } error ? $"; {error}" : "")}");
            foreach (var d in summary.Directions.Where(d => d.From != d.To))
                await output.WriteLineAsync(FormattableString.Invariant($"{d.Source}\t{d.From} → {d.To}\t{d.Count}"));
            await output.WriteLineAsync(FormattableString.Invariant($"ml rescore: {summary.Changed} changed, {summary.Unchanged} unchanged, {summary.WouldHold} approved would be held")
                + (run.Preview ? "" : run.Status == Rescoring.RescoringRuns.Succeeded ? $"; apply with: ml rescore-apply {run.Number}" : ""));
            return run.Status == Rescoring.RescoringRuns.Succeeded ? 0 : 1;
        }));

        services.AddCliVerb(new CliVerb("ml rescore-apply", RescoreApplyUsage, async (sp, args, _, output) =>
        {
            if (args is not [var name]) throw new CliUsageException($"usage: {RescoreApplyUsage}");
            var runs = sp.GetRequiredService<Rescoring.RescoringRuns>();
            var run = int.TryParse(name.TrimStart('#'), NumberStyles.None, CultureInfo.InvariantCulture, out var number) ? await runs.FindAsync(number, CancellationToken.None)
                : Guid.TryParse(name, out var id) ? await runs.FindAsync(id, CancellationToken.None) : null;
            if (run is null) throw new CliUsageException($"no re-scoring run {name} (give its number or id)");
            var applied = await runs.ApplyAsync(run.Id, null, CancellationToken.None);
            if (applied.Error is { } refused) throw new CliUsageException(refused);
            await output.WriteLineAsync($"ml rescore-apply: run #{run.Number} applied: {applied.Verdicts} verdict(s) in {applied.Events} event(s)");
            return 0;
        }));

        services.AddCliVerb(new CliVerb("ml list", "ml list   the registered model versions, newest first", async (sp, _, _, output) =>
        {
            var registry = sp.GetRequiredService<Registry.ModelRegistry>();
            var production = await registry.ProductionAsync(CancellationToken.None);
            foreach (var v in await registry.ListAsync(CancellationToken.None))
                await output.WriteLineAsync(FormattableString.Invariant(
                    $"v{v.Number}\t{v.Id}\t{v.CreatedAt:yyyy-MM-dd HH:mm}\t{v.Source}\tmacro-F1 {(v.Evaluation is { } e ? e.MacroF1.ToString("0.000", CultureInfo.InvariantCulture) : "—")}{(v.Id == production?.Id ? "\tproduction" : "")}"));
            return 0;
        }));

        services.AddCliVerb(new CliVerb("ml starter-model", StarterModelUsage, async (sp, args, _, output) =>
        {
            var directory = Starter.StarterModel.Ensure(args.Option("--cache", StarterModelUsage), sp.GetRequiredService<LanguageDetection>(),
                line => Console.Error.WriteLine($"ml starter-model: {line}"));
            await output.WriteLineAsync(directory);
            return 0;
        }, UsesDatabase: false));

        services.AddCliVerb(new CliVerb("ml register", RegisterUsage, async (sp, args, _, output) =>
        {
            ModelPackage model;
            try { model = ModelPackage.Read(args.Option("--model", RegisterUsage)); }
            catch (FileNotFoundException e) { throw new CliUsageException(e.Message); }
            var registry = sp.GetRequiredService<Registry.ModelRegistry>();
            var version = await registry.RegisterAsync(model, CancellationToken.None);
            if (args.Contains("--promote")) await Registry.PromoteModelVersion.PromoteAsync(sp, version.Id.ToString(), null, CancellationToken.None);
            await output.WriteLineAsync($"ml register: v{version.Number} ({version.Id}){(args.Contains("--promote") ? ", now production" : "")}");
            return 0;
        }));

        services.AddCliVerb(new CliVerb("ml starter-data", StarterUsage, async (_, args, _, output) =>
        {
            var file = args.Option("--out", StarterUsage);
            var rows = Starter.StarterCorpus.Examples;
            await File.WriteAllLinesAsync(file, rows.Select(r => JsonSerializer.Serialize(
                new { text = r.Text, labels = r.Labels, group = r.Group, language = r.Language }, ModelTraining.Compact)));
            await output.WriteLineAsync($"ml starter-data: {rows.Count} examples → {Path.GetFullPath(file)}");
            return 0;
        }, UsesDatabase: false));

        services.AddCliVerb(new CliVerb("ml train", TrainUsage, async (sp, args, _, output) =>
        {
            var data = args.Option("--data", TrainUsage);
            var outDir = args.Option("--out", TrainUsage);
            var featurizer = new FeaturizerSettings(
                args.IntOption("--minn", TrainUsage, 2, 1, 10), args.IntOption("--maxn", TrainUsage, 5, 1, 10),
                args.IntOption("--word-ngrams", TrainUsage, 2, 1, 5), args.IntOption("--buckets", TrainUsage, 200_000, 1_000, 20_000_000));
            var training = new TrainingSettings(
                args.IntOption("--dim", TrainUsage, 32, 2, 1024), args.IntOption("--epochs", TrainUsage, 25, 1, 1000),
                (float)Double(args, "--lr", 0.2, 1e-6, 10), args.IntOption("--threads", TrainUsage, 2, 1, 256), args.IntOption("--seed", TrainUsage, 1, 0, int.MaxValue),
                EarlyStopping: args.Contains("--early-stopping"));
            var validation = Double(args, "--validation", 0.1, 0, 0.5);
            try
            {
                featurizer.Validate();
                training.Validate();
            }
            catch (ArgumentException invalid) { throw new CliUsageException(invalid.Message); }
            var rows = Read(data);
            var test = args.OptionalOption("--test", TrainUsage) is { } testFile ? Read(testFile) : null;
            var result = ModelTraining.Train(rows, Categories.Default, featurizer, training, validation, test,
                test is null ? null : sp.GetRequiredService<LanguageDetection>());
            ModelTraining.Write(result, outDir);
            var summary = FormattableString.Invariant(
                $"ml train: {result.Card.TrainExamples} examples, {result.Card.Report.EpochsRun} epochs in {result.Card.Report.Seconds:0.00} s → {Path.GetFullPath(outDir)}");
            if (result.Card.Evaluation is { } evaluation) summary += FormattableString.Invariant($" (test macro-F1 {evaluation.MacroF1:0.000})");
            await output.WriteLineAsync(summary);
            return 0;
        }, UsesDatabase: false));

        services.AddCliVerb(new CliVerb("ml eval", EvalUsage, async (sp, args, _, output) =>
        {
            var directory = args.Option("--model", EvalUsage);
            var rows = Read(args.Option("--data", EvalUsage));
            var target = Double(args, "--target-precision", 0.9, 0.01, 1);
            ModelPackage package;
            try { package = ModelPackage.Read(directory); }
            catch (FileNotFoundException e) { throw new CliUsageException(e.Message); }
            // Any kind (n-gram, encoder, ensemble), scored as served: through ONNX Runtime, each text in its language.
            var detector = sp.GetRequiredService<LanguageDetection>();
            var languages = ModelTraining.Languages(rows, detector)!;
            var model = LoadedModel.FromPackage(package, sp.GetRequiredService<SessionFactory>());
            float[][] scores;
            try { scores = model.ScoreTexts([.. rows.Select(r => r.Text)], languages); }
            finally { model.Release(); }
            var card = package.Card;
            var report = Evaluator.Evaluate(card.Categories, scores, rows.Select(r => ModelTraining.Labels(r, card.Categories)).ToList(),
                card.Thresholds, languages, target, card.Source);
            await output.WriteLineAsync(JsonSerializer.Serialize(report, ModelTraining.Json));
            return 0;
        }, UsesDatabase: false));
    }

    static IReadOnlyList<LabelledText> Read(string path)
    {
        try { return LabelledData.Read(path, Categories.Default); }
        catch (DataFileException e) { throw new CliUsageException(e.Message); }
    }

    static double Double(string[] args, string option, double fallback, double min, double max) =>
        args.OptionalOption(option, option) is not { } text ? fallback
        : double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max ? value
        : throw new CliUsageException($"{option} must be a number from {min} to {max}, not \"{text}\"");
}
