using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using BirbalAI.Ml.Registry;
using BirbalAI.Ml.Serving;
using BirbalAI.Ml.Starter;
using BirbalAI.Ml.Text;
using BirbalAI.Ml.Training;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;

namespace BirbalAI.Bench;

/// <summary>
/// The moderation service as deployed: the real app process (Production settings) on the test servers, once
/// with workstation GC and once with server GC. For each: idle RSS with the production model loaded, then
/// /v1/moderations at a fixed offered rate from an open-loop generator (latency counted from when a request
/// was due, so a stall is not hidden), with /healthz at the same rate as the reference floor of the HTTP stack.
/// Then, in process, the micro-batcher's throughput against the same scoring with batching off.
/// </summary>
static class ServingBench
{
    const int Rate = 200, EnsembleRate = 50;
    static readonly TimeSpan Duration = TimeSpan.FromSeconds(20), Warmup = TimeSpan.FromSeconds(3);

    public static async Task<int> RunAsync(string output, string appDll, string modelDirectory)
    {
        ThreadPool.SetMinThreads(64, 64);   // the generator must not be what queues
        // Every sixth corpus example: all languages and lengths in the corpus's proportions (not the first files' language).
        var texts = StarterCorpus.Examples.Where((e, i) => i % 6 == 0 && e.Text.Length > 0).Select(e => e.Text).Take(5000).ToArray();
        var results = new Dictionary<string, object>();
        // The starter model is an ensemble; today's keys are measured on its n-gram component registered alone.
        var ensembleDirectory = modelDirectory;
        var ngramDirectory = NgramOnly(modelDirectory);
        var skipApp = Environment.GetEnvironmentVariable("BENCH_SKIP_APP") is "1";
        // BENCH_GC=workstation|server measures one; BENCH_SKIP_APP=1 only the in-process figures.
        var modes = Environment.GetEnvironmentVariable("BENCH_GC") is { Length: > 0 } only ? [only] : new[] { "workstation", "server" };
        // BENCH_ENSEMBLE_ONLY=1: only the app run with the ensemble in production (memory and latency experiments).
        var ensembleOnly = Environment.GetEnvironmentVariable("BENCH_ENSEMBLE_ONLY") is "1";
        // BENCH_NGRAM_ONLY=1: no ensemble app run and no encoder figures (n-gram latency and micro-batching experiments).
        var ngramOnly = Environment.GetEnvironmentVariable("BENCH_NGRAM_ONLY") is "1";
        foreach (var gc in skipApp || ensembleOnly ? [] : modes)
        {
            var figures = await MeasureAppAsync(appDll, ngramDirectory, gc == "server", texts, Rate);
            foreach (var (key, value) in figures) results[$"{key}_{gc}_gc"] = value;
            Console.WriteLine($"{gc} GC: " + string.Join(", ", figures.Select(f => $"{f.Key} {f.Value}")));
        }
        // The app ships with workstation GC (BirbalAI.Web.csproj); its figures are the headline ones.
        foreach (var key in new[] { "http_rps", "http_p50_ms", "http_p99_ms", "rss_mib_idle", "healthz_p99_ms", "adversarial_peak_mib" })
            if (results.TryGetValue($"{key}_workstation_gc", out var value)) results[key] = value;
        results["http_offered_rps"] = Rate;

        if (!skipApp && !ngramOnly)
        {
            // The ensemble in production, short texts (under 200 characters) at 50 requests/s.
            var ensemble = await MeasureAppAsync(appDll, ensembleDirectory, serverGc: false, [.. texts.Where(t => t.Length < 200)], EnsembleRate);
            results["ensemble_http_p50_ms"] = ensemble["http_p50_ms"];
            results["ensemble_http_p99_ms"] = ensemble["http_p99_ms"];
            results["ensemble_http_rps"] = ensemble["http_rps"];
            results["ensemble_offered_rps"] = EnsembleRate;
            results["rss_mib_idle_ensemble"] = ensemble["rss_mib_idle"];
            results["adversarial_peak_mib_ensemble"] = ensemble["adversarial_peak_mib"];
            Console.WriteLine("ensemble: " + string.Join(", ", ensemble.Select(f => $"{f.Key} {f.Value}")));
        }
        if (!ensembleOnly && !ngramOnly)
        {
            var (ours, bare) = EncoderThroughput(ensembleDirectory, texts);
            results["encoder_texts_per_second"] = Math.Round(ours, 1);
            results["encoder_texts_per_second_bare_ort"] = Math.Round(bare, 1);
            results["encoder_throughput_ratio_vs_bare_ort"] = Math.Round(ours / bare, 3);
            Console.WriteLine($"encoder batches: {ours:0.0} texts/s through EncoderScorer, {bare:0.0} bare ONNX Runtime → ×{ours / bare:0.000}");
        }
        if (!ensembleOnly)
        {

            var (batched, alone) = MicroBatching(ngramDirectory, texts);
            results["microbatch_texts_per_second_on"] = Math.Round(batched);
            results["microbatch_texts_per_second_off"] = Math.Round(alone);
            results["microbatch_speedup"] = Math.Round(batched / alone, 2);
            // The same on chat lines (under 40 characters), where a call's fixed cost outweighs the texts' own work.
            var (shortBatched, shortAlone) = MicroBatching(ngramDirectory, [.. texts.Where(t => t.Length < 40)]);
            results["microbatch_speedup_short_texts"] = Math.Round(shortBatched / shortAlone, 2);
            Console.WriteLine($"micro-batching: {batched:0} texts/s on, {alone:0} off → ×{batched / alone:0.00}; texts under 40 characters ×{shortBatched / shortAlone:0.00}");
        }

        var merged = File.Exists(output) ? JsonSerializer.Deserialize<Dictionary<string, object>>(File.ReadAllText(output)) ?? [] : [];
        foreach (var (key, value) in results) merged[key] = value;
        File.WriteAllText(output, JsonSerializer.Serialize(merged, new JsonSerializerOptions { WriteIndented = true }));
        Console.WriteLine($"wrote {Path.GetFullPath(output)}");
        return 0;
    }

    /// <summary>The n-gram component of a starter ensemble as an n-gram model folder of its own (the starter itself when it is one).</summary>
    internal static string NgramOnly(string modelDirectory)
    {
        var package = ModelPackage.Read(modelDirectory);
        if (package.Card.Kind == ModelKinds.Ngram) return modelDirectory;
        var directory = Path.Combine(Path.GetTempPath(), $"birbal-bench-ngram-{Path.GetFileName(modelDirectory)}");
        if (!File.Exists(Path.Combine(directory, ModelPackage.CardFile)))
            new ModelPackage(package.Card with { Kind = ModelKinds.Ngram, Components = null, Combination = null, Source = "starter corpus (n-gram component)" }, package.Ngram)
                .Write(directory);
        return directory;
    }

    /// <summary>
    /// The encoder path's batch throughput: English corpus texts, tokenised beforehand, scored by EncoderScorer
    /// (plan, pack, pooling matrix, run, copy out) against bare ONNX Runtime running the same graph on the same
    /// packed batches prepared outside the timing (InferenceSession.Run with OrtValues). Best of three rounds each.
    /// </summary>
    static (double Ours, double Bare) EncoderThroughput(string modelDirectory, string[] texts)
    {
        var package = ModelPackage.Read(modelDirectory);
        if (!package.HasEncoder) return (double.NaN, double.NaN);
        var settings = package.Card.Components!.First(c => c.Kind == ModelKinds.Encoder).EncoderSettings ?? BirbalAI.Ml.Encoder.EncoderSettings.Default;
        var options = Options.Create(Serving());
        var sessions = new SessionFactory(options, NullLogger<SessionFactory>.Instance);
        using var scorer = new BirbalAI.Ml.Encoder.EncoderScorer(sessions.Create(package.Encoder!), new BirbalAI.Ml.Encoder.EncoderTokenizer(package.Vocabulary!, settings));
        var detector = new LanguageDetection();
        var english = texts.Where(t => detector.Detect(t) == "en").Take(600).Select(TextNormalizer.Normalize).ToArray();
        var tokenized = english.Select(scorer.Tokenizer.Tokenize).ToArray();
        var batches = BirbalAI.Ml.Encoder.EncoderBatches.Plan(tokenized, settings).Select(b => b.Select(i => tokenized[i]).ToList()).ToList();
        var packed = batches.Select(b =>
        {
            var pack = BirbalAI.Ml.Encoder.EncoderBatches.Pack(b);
            var pooling = new float[b.Count * pack.Windows];
            var window = 0;
            for (var t = 0; t < b.Count; t++)
            {
                pooling.AsSpan(t * pack.Windows + window, b[t].Windows.Count).Fill(1f / b[t].Windows.Count);
                window += b[t].Windows.Count;
            }
            return (pack, pooling, b.Count);
        }).ToList();
        using var bare = sessions.Create(package.Encoder!);
        string[] inputs = ["input_ids", "attention_mask", "token_type_ids", "pooling"];
        string[] outputs = ["scores"];
        using var run = new Microsoft.ML.OnnxRuntime.RunOptions();
        double Ours() { var c = Stopwatch.StartNew(); scorer.ScoreTokenized(tokenized); return english.Length / c.Elapsed.TotalSeconds; }
        double Bare()
        {
            var c = Stopwatch.StartNew();
            foreach (var (pack, pooling, count) in packed)
            {
                long[] shape = [pack.Windows, pack.Length];
                using var ids = Microsoft.ML.OnnxRuntime.OrtValue.CreateTensorValueFromMemory(pack.InputIds, shape);
                using var mask = Microsoft.ML.OnnxRuntime.OrtValue.CreateTensorValueFromMemory(pack.AttentionMask, shape);
                using var types = Microsoft.ML.OnnxRuntime.OrtValue.CreateTensorValueFromMemory(pack.TokenTypeIds, shape);
                using var pool = Microsoft.ML.OnnxRuntime.OrtValue.CreateTensorValueFromMemory(pooling, [count, pack.Windows]);
                using var result = bare.Run(run, inputs, [ids, mask, types, pool], outputs);
            }
            return english.Length / c.Elapsed.TotalSeconds;
        }
        Ours(); Bare();   // warm
        double best = 0, bestBare = 0;
        for (var round = 0; round < 3; round++) { best = Math.Max(best, Ours()); bestBare = Math.Max(bestBare, Bare()); }
        return (best, bestBare);
    }

    static async Task<Dictionary<string, object>> MeasureAppAsync(string appDll, string modelDirectory, bool serverGc, string[] texts, int rate)
    {
        var baseConnection = Environment.GetEnvironmentVariable("Database__ConnectionString") ?? throw new InvalidOperationException("run through bench/serving/run.sh");
        var name = $"bench_{Guid.NewGuid():N}"[..20];
        await using (var admin = new NpgsqlConnection(baseConnection))
        {
            await admin.OpenAsync();
            await using var create = new NpgsqlCommand($"create database {name}", admin);
            await create.ExecuteNonQueryAsync();
        }
        var port = FreePort();
        var environment = new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["Database__ConnectionString"] = new NpgsqlConnectionStringBuilder(baseConnection) { Database = name }.ConnectionString,
            ["Redis__KeyPrefix"] = name + ":",
            ["RabbitMq__Prefix"] = name + ".",
            ["Secrets__JwtSigningKey"] = "bench-jwt-signing-key-0123456789abcdef0123456789",
            ["Secrets__EncryptionKey"] = "bench-encryption-key-0123456789abcdef0123456789",
            ["Listen__Web"] = $"http://127.0.0.1:{port}",
            ["Listen__Grpc"] = "",
            ["Ml__StarterModelDirectory"] = modelDirectory,
            ["Identity__ApiPerClientLimit"] = "1000000",
            ["Logging__LogLevel__Default"] = "Warning",
            ["DOTNET_gcServer"] = serverGc ? "1" : "0",
        };
        foreach (var pair in (Environment.GetEnvironmentVariable("BENCH_APP_ENV") ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries))
            environment[pair.Split('=')[0]] = pair[(pair.IndexOf('=') + 1)..];   // e.g. DOTNET_GCgen0size=0x1000000
        var contentRoot = Path.GetDirectoryName(appDll)!;
        var key = (await RunAsync(appDll, environment, $"--contentRoot={contentRoot} apikey create --user service --name bench --role Member")).Trim().Split('\n')[^1].Trim();
        using var app = Start(appDll, environment, $"--contentRoot={contentRoot}");
        try
        {
            using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 512, PooledConnectionLifetime = Timeout.InfiniteTimeSpan })
            {
                BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(30),
            };
            http.DefaultRequestHeaders.Authorization = new("Bearer", key);
            for (var i = 0; ; i++)
            {
                try { if ((await http.GetAsync("/readyz")).IsSuccessStatusCode) break; }
                catch (HttpRequestException) { }
                if (app.HasExited || i > 600) throw new InvalidOperationException("the app did not become ready");
                await Task.Delay(100);
            }
            var bodies = texts.Select(t => JsonSerializer.Serialize(new { input = t })).ToArray();
            for (var i = 0; i < 200; i++) (await Post(http, bodies[i])).EnsureSuccessStatusCode();   // model, Lingua and JIT warm
            await Task.Delay(TimeSpan.FromSeconds(5));
            var rss = RssMiB(app.Id);

            // BENCH_SKIP_LOAD=1: memory only (the load figures are then NaN).
            var skipLoad = Environment.GetEnvironmentVariable("BENCH_SKIP_LOAD") is "1";
            var none = new LoadResult(double.NaN, double.NaN, double.NaN, 0);
            if (!skipLoad) await OpenLoopAsync(_ => http.GetAsync("/healthz"), rate);   // the generator's own warm-up
            var moderations = skipLoad ? none : await OpenLoopAsync(i => Post(http, bodies[i % bodies.Length]), rate);
            var healthz = skipLoad ? none : await OpenLoopAsync(_ => http.GetAsync("/healthz"), rate);
            if (moderations.Failed > 0) throw new InvalidOperationException($"{moderations.Failed} requests failed");
            var adversarial = await AdversarialPeakMiBAsync(http, app.Id);
            return new Dictionary<string, object>
            {
                ["adversarial_peak_mib"] = Math.Round(adversarial, 1),
                ["http_rps"] = Math.Round(moderations.Rps, 1),
                ["http_p50_ms"] = Math.Round(moderations.P50, 2),
                ["http_p99_ms"] = Math.Round(moderations.P99, 2),
                ["healthz_p99_ms"] = Math.Round(healthz.P99, 2),
                ["rss_mib_idle"] = Math.Round(rss, 1),
            };
        }
        finally
        {
            app.Kill(entireProcessTree: true);
            await app.WaitForExitAsync();
            NpgsqlConnection.ClearAllPools();
            await using var admin = new NpgsqlConnection(baseConnection);
            await admin.OpenAsync();
            await using var drop = new NpgsqlCommand($"drop database if exists {name} with (force)", admin);
            await drop.ExecuteNonQueryAsync();
        }
    }

    /// <summary>
    /// Peak memory growth (VmHWM after a reset, less VmRSS before) while the app answers the security review's
    /// adversarial requests: one 20,000 × U+FDFA text with 15 short ones (the refusal must name the limit), four
    /// such 7-text requests at once, and four concurrent requests of the largest ordinary texts the limits accept
    /// (25 × 20,000 characters of varied words, 500 KB each), which must be scored.
    /// </summary>
    static async Task<double> AdversarialPeakMiBAsync(HttpClient http, int pid)
    {
        GC.Collect();
        await Task.Delay(TimeSpan.FromSeconds(2));
        var before = RssMiB(pid);
        File.WriteAllText($"/proc/{pid}/clear_refs", "5");   // resets VmHWM to the current RSS
        string[] review = [new string('\uFDFA', 20_000), .. Enumerable.Range(0, 15).Select(i => $"short text {i}")];
        string[] seven = [.. Enumerable.Range(0, 7).Select(_ => new string('\uFDFA', 2_850))];
        var random = new Random(5);
        string Words() { var sb = new StringBuilder(); while (sb.Length < 19_990) sb.Append(string.Concat(Enumerable.Range(0, random.Next(2, 11)).Select(_ => (char)('a' + random.Next(26))))).Append(' '); return sb.ToString()[..19_990]; }
        string[] largest = [.. Enumerable.Range(0, 25).Select(_ => Words())];

        async Task<int> Check(string[] texts) => (int)(await http.PostAsync("/api/moderation/check",
            new StringContent(JsonSerializer.Serialize(new { texts }), Encoding.UTF8, "application/json"))).StatusCode;
        var first = await Check(review);
        var concurrent = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Check(seven)));
        var accepted = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Check(largest)));
        if (first != 400 || concurrent.Any(c => c != 400)) throw new InvalidOperationException($"the expanding requests were answered {first}, {string.Join(",", concurrent)}, not 400");
        if (accepted.Any(c => c != 200)) throw new InvalidOperationException($"the largest accepted requests were answered {string.Join(",", accepted)}");
        var peak = File.ReadLines($"/proc/{pid}/status").Where(l => l.StartsWith("VmHWM:", StringComparison.Ordinal))
            .Select(l => double.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024).Single();
        Console.WriteLine($"adversarial requests: RSS {before:0} MiB before, peak {peak:0} MiB");
        return peak - before;
    }

    static Task<HttpResponseMessage> Post(HttpClient http, string body) =>
        http.PostAsync("/v1/moderations", new StringContent(body, Encoding.UTF8, "application/json"));

    sealed record LoadResult(double Rps, double P50, double P99, int Failed);

    /// <summary>Sends request i when it is due (i / rate after the start), whatever the earlier ones are doing.</summary>
    static async Task<LoadResult> OpenLoopAsync(Func<int, Task<HttpResponseMessage>> send, int rate)
    {
        var total = (int)((Warmup + Duration).TotalSeconds * rate);
        var warm = (int)(Warmup.TotalSeconds * rate);
        var latencies = new ConcurrentBag<double>();
        var failed = 0;
        var inflight = new List<Task>(total);
        var clock = Stopwatch.StartNew();
        await Task.Yield();
        for (var i = 0; i < total; i++)
        {
            var due = TimeSpan.FromSeconds((double)i / rate);
            while (clock.Elapsed < due)
                if (due - clock.Elapsed > TimeSpan.FromMilliseconds(2)) Thread.Sleep(1); else Thread.SpinWait(100);
            var index = i;
            inflight.Add(Task.Run(async () =>
            {
                using var response = await send(index);
                await response.Content.ReadAsByteArrayAsync();
                var latency = (clock.Elapsed - due).TotalMilliseconds;
                if (!response.IsSuccessStatusCode) Interlocked.Increment(ref failed);
                else if (index >= warm) latencies.Add(latency);
            }));
        }
        await Task.WhenAll(inflight);
        var measured = clock.Elapsed - Warmup;
        var sorted = latencies.Order().ToArray();
        return new LoadResult(sorted.Length / measured.TotalSeconds, Percentile(sorted, 0.50), Percentile(sorted, 0.99), failed);
    }

    internal static double Percentile(double[] sorted, double p) => sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];

    /// <summary>Featurise + score from 64 concurrent callers for a few seconds, batching on (the shipped settings) and off.</summary>
    static (double On, double Off) MicroBatching(string modelDirectory, string[] texts)
    {
        var (onnx, card) = ModelTraining.Read(modelDirectory);
        var version = new ModelVersion
        {
            Id = Guid.NewGuid(), Number = 1, Categories = [.. card.Categories], Thresholds = card.Thresholds,
            Featurizer = JsonSerializer.Serialize(card.Featurizer, ModelTraining.Json), Source = card.Source ?? "",
        };
        var normalized = texts.Select(TextNormalizer.Normalize).ToArray();
        double Measure(bool batching)
        {
            var options = Serving(); options.MicroBatching = batching;
            var model = new LoadedModel(version, onnx, new SessionFactory(Options.Create(options), NullLogger<SessionFactory>.Instance).Create(onnx));
            var batcher = new MicroBatcher(Options.Create(options), NullLogger<MicroBatcher>.Instance);
            long done = 0;
            var stop = Stopwatch.StartNew();
            var workers = Enumerable.Range(0, 64).Select(w => Task.Run(async () =>
            {
                for (var i = w; stop.Elapsed < TimeSpan.FromSeconds(6); i += 64)
                {
                    await batcher.ScoreAsync(model, [model.Featurizer!.Featurize(normalized[i % normalized.Length])]);
                    if (stop.Elapsed > TimeSpan.FromSeconds(1)) Interlocked.Increment(ref done);
                }
            })).ToArray();
            Task.WaitAll(workers);
            var rate = done / (stop.Elapsed.TotalSeconds - 1);
            batcher.DisposeAsync().AsTask().Wait();
            model.Release();
            return rate;
        }
        Measure(true);   // JIT warm
        return (Measure(true), Measure(false));
    }

    /// <summary>The service's settings, with Ml__Serving__NativeMmapThresholdBytes from the environment (experiments).</summary>
    static ServingOptions Serving() => new()
    {
        NativeMmapThresholdBytes = int.TryParse(Environment.GetEnvironmentVariable("Ml__Serving__NativeMmapThresholdBytes"), out var bytes) ? bytes : new ServingOptions().NativeMmapThresholdBytes,
    };

    static double RssMiB(int pid) =>
        File.ReadLines($"/proc/{pid}/status").Where(l => l.StartsWith("VmRSS:", StringComparison.Ordinal))
            .Select(l => double.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024).Single();

    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    internal static Process Start(string dll, Dictionary<string, string> environment, string arguments)
    {
        var start = new ProcessStartInfo("dotnet", $"{dll} {arguments}") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var (k, v) in environment) start.Environment[k] = v;
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) Console.Error.WriteLine("app: " + e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    internal static async Task<string> RunAsync(string dll, Dictionary<string, string> environment, string arguments)
    {
        var start = new ProcessStartInfo("dotnet", $"{dll} {arguments}") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var (k, v) in environment) start.Environment[k] = v;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0) throw new InvalidOperationException($"{arguments} failed: {await stderr}");
        return await stdout;
    }
}
