using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Wordprocessing;
using Npgsql;
using UglyToad.PdfPig.Core;
using UglyToad.PdfPig.Fonts.Standard14Fonts;
using UglyToad.PdfPig.Writer;

namespace BirbalAI.Bench;

/// <summary>
/// Documents' pipeline against the moderator alone, in one run of the real app process (Production settings) on the test
/// servers, in a database of its own that is dropped afterwards. A fixed mixed set of 200 files (txt, md, html, pdf, docx,
/// 40 each, written here from the evaluation set's texts with a fixed seed) is uploaded through POST /api/documents by
/// BENCH_DOCUMENTS_UPLOADERS (4) clients at once; the pipeline's time runs from the first upload until every document has
/// its final status. Then the chunks the worker stored are sent to the same app's moderator as the worker sends them (each
/// document's chunks in batches of Documents:ModerationBatchSize, one call after the other, through POST /v1/moderations):
/// the raw rate. Last, one-page PDFs uploaded one at a time into the idle pipeline, each timed from the upload until its
/// final status is served by GET /api/documents/{id}.
/// </summary>
static class DocumentsBench
{
    const int Files = 200, BatchSize = 32, Latencies = 9;
    static readonly string[] Types = ["txt", "md", "html", "pdf", "docx"];
    static readonly string[] Final = ["approved", "partially-held", "held", "partially-rejected", "rejected", "failed"];

    public static async Task<int> RunAsync(string output, string appDll, string modelDirectory, string evalDirectory)
    {
        var uploaders = int.TryParse(Environment.GetEnvironmentVariable("BENCH_DOCUMENTS_UPLOADERS"), out var u) ? u : 4;
        var rawRounds = int.TryParse(Environment.GetEnvironmentVariable("BENCH_DOCUMENTS_RAW_ROUNDS"), out var r) ? r : 1;   // one by default: `make bench` as a whole must end within 60 minutes
        // BENCH_DOCUMENTS_NGRAM=1: the starter's n-gram component alone in production (a fast moderator, so the pipeline's own
        // costs show); its keys end in _ngram.
        var ngram = Environment.GetEnvironmentVariable("BENCH_DOCUMENTS_NGRAM") is "1";
        if (ngram) modelDirectory = ServingBench.NgramOnly(modelDirectory);
        // BENCH_DOCUMENTS_WORKER_ALONE=1: the app as --role web beside a --role worker process, and the worker stopped while the
        // 200 files are uploaded; the pipeline's time is then the worker's alone, from its /readyz until the last final status
        // (uploads not competing with moderation for the cores); its keys end in _worker_alone.
        var workerAlone = Environment.GetEnvironmentVariable("BENCH_DOCUMENTS_WORKER_ALONE") is "1";
        var suffix = (ngram ? "_ngram" : "") + (workerAlone ? "_worker_alone" : "");
        var files = FileSet(evalDirectory);
        var probes = Enumerable.Range(0, Latencies).Select(i => OnePagePdf(i, evalDirectory)).ToList();
        Console.WriteLine($"{files.Count} files, {files.Sum(f => f.Bytes.Length) / 1024} KiB: " +
            string.Join(", ", files.GroupBy(f => f.Type).Select(g => $"{g.Count()} {g.Key}")));

        var baseConnection = Environment.GetEnvironmentVariable("Database__ConnectionString") ?? throw new InvalidOperationException("run through bench/documents/run.sh");
        var name = $"bench_{Guid.NewGuid():N}"[..20];
        await using (var admin = new NpgsqlConnection(baseConnection))
        {
            await admin.OpenAsync();
            await using var create = new NpgsqlCommand($"create database {name}", admin);
            await create.ExecuteNonQueryAsync();
        }
        var database = new NpgsqlConnectionStringBuilder(baseConnection) { Database = name }.ConnectionString;
        var port = ServingBench.FreePort();
        var environment = new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["Database__ConnectionString"] = database,
            ["Redis__KeyPrefix"] = name + ":",
            ["RabbitMq__Prefix"] = name + ".",
            ["Secrets__JwtSigningKey"] = "bench-jwt-signing-key-0123456789abcdef0123456789",
            ["Secrets__EncryptionKey"] = "bench-encryption-key-0123456789abcdef0123456789",
            ["Listen__Web"] = $"http://127.0.0.1:{port}",
            ["Listen__Grpc"] = "",
            ["Ml__StarterModelDirectory"] = modelDirectory,
            ["Identity__ApiPerClientLimit"] = "1000000",
            ["Documents__ModerationBatchSize"] = BatchSize.ToString(),
            ["Logging__LogLevel__Default"] = "Warning",
        };
        foreach (var pair in (Environment.GetEnvironmentVariable("BENCH_APP_ENV") ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries))
            environment[pair.Split('=')[0]] = pair[(pair.IndexOf('=') + 1)..];
        var contentRoot = Path.GetDirectoryName(appDll)!;
        var key = (await ServingBench.RunAsync(appDll, environment, $"--contentRoot={contentRoot} apikey create --user service --name bench-documents --role Member"))
            .Trim().Split('\n')[^1].Trim();
        using var app = ServingBench.Start(appDll, environment, $"--contentRoot={contentRoot}" + (workerAlone ? " --role web" : ""));
        var workerEnvironment = new Dictionary<string, string>(environment) { ["Listen__Worker"] = $"http://127.0.0.1:{ServingBench.FreePort()}" };
        Process? worker = null;
        async Task<HttpClient> StartWorkerAsync()
        {
            worker?.Dispose();
            worker = ServingBench.Start(appDll, workerEnvironment, $"--contentRoot={contentRoot} --role worker");
            var client = new HttpClient { BaseAddress = new Uri(workerEnvironment["Listen__Worker"]), Timeout = TimeSpan.FromSeconds(60) };
            await ReadyAsync(client, worker);
            return client;
        }
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(60) };
            http.DefaultRequestHeaders.Authorization = new("Bearer", key);
            await ReadyAsync(http, app);
            var workerHttp = workerAlone ? await StartWorkerAsync() : null;
            await using var db = NpgsqlDataSource.Create(database);

            // Warm-up: one file of each type through the whole pipeline (JIT, PdfPig, OpenXml, the consumer), not counted.
            var warm = FileSet(evalDirectory, seed: 99, prefix: "warm").Take(Types.Length).ToList();
            foreach (var file in warm) await UploadAsync(http, file);
            await WaitAllFinalAsync(db, TimeSpan.FromMinutes(2));

            // The pipeline: every file uploaded (several clients at once), until every document has its final status.
            if (worker is not null)
            {
                worker.Kill(entireProcessTree: true);
                await worker.WaitForExitAsync();
            }
            var before = await MetricsAsync(http);
            var pipeline = Stopwatch.StartNew();
            var next = -1;
            await Task.WhenAll(Enumerable.Range(0, uploaders).Select(async _ =>
            {
                for (var i = Interlocked.Increment(ref next); i < files.Count; i = Interlocked.Increment(ref next))
                {
                    await UploadAsync(http, files[i]);
                }
            }));
            var uploadSeconds = pipeline.Elapsed.TotalSeconds;
            var workerStartSeconds = 0.0;
            var workerBefore = new Metrics(0, 0);
            if (workerHttp is not null)
            {
                var starting = Stopwatch.StartNew();
                workerHttp.Dispose();
                workerHttp = await StartWorkerAsync();
                workerStartSeconds = starting.Elapsed.TotalSeconds;
                workerBefore = await MetricsAsync(workerHttp);
                pipeline.Restart();
            }
            await WaitAllFinalAsync(db, TimeSpan.FromMinutes(20));
            var pipelineSeconds = pipeline.Elapsed.TotalSeconds;
            var afterPipeline = await MetricsAsync(http);
            // With a worker process of its own, the pipeline's moderator time is the worker's and the web's (the titles).
            var workerModeratorSeconds = workerHttp is null ? 0 : (await MetricsAsync(workerHttp)).ModeratorSeconds - workerBefore.ModeratorSeconds;

            await using var connection = await db.OpenConnectionAsync();
            var statuses = new Dictionary<string, long>();
            await using (var command = new NpgsqlCommand("select status, count(*) from documents.documents group by status order by status", connection))
            await using (var reader = await command.ExecuteReaderAsync())
                while (await reader.ReadAsync()) statuses[reader.GetString(0)] = reader.GetInt64(1);
            // The chunks of the measured documents, per document in order: the worker's batches exactly.
            var batches = new List<string[]>();
            await using (var command = new NpgsqlCommand("""
                select c.document_id, c.text from documents.chunks c join documents.documents d on d.id = c.document_id
                where d.file_name like 'report-%' order by d.created_at, c.document_id, c.ordinal
                """, connection))
            await using (var reader = await command.ExecuteReaderAsync())
            {
                var perDocument = new List<(Guid Document, string Text)>();
                while (await reader.ReadAsync()) perDocument.Add((reader.GetGuid(0), reader.GetString(1)));
                foreach (var document in perDocument.GroupBy(c => c.Document))
                    batches.AddRange(document.Select(c => c.Text).Chunk(BatchSize));
            }
            var chunks = batches.Sum(b => b.Length);
            var documents = await ScalarAsync(connection, "select count(*) from documents.documents where file_name like 'report-%'");
            if (documents != files.Count) throw new InvalidOperationException($"{documents} documents stored of {files.Count} uploaded");

            // The raw rate: the same chunks through the same app's moderator, one batch after another (the worker's pace);
            // BENCH_DOCUMENTS_RAW_ROUNDS rounds (1), the median.
            var bodies = batches.Select(b => JsonSerializer.Serialize(new { input = b })).ToList();
            var rawRates = new List<double>();
            var healthz = new List<double>();
            for (var round = 0; round < rawRounds; round++)
            {
                var clock = Stopwatch.StartNew();
                foreach (var body in bodies)
                {
                    using var response = await http.PostAsync("/v1/moderations", new StringContent(body, Encoding.UTF8, "application/json"));
                    await response.Content.ReadAsByteArrayAsync();
                    if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"/v1/moderations: {response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                }
                rawRates.Add(chunks / clock.Elapsed.TotalSeconds);
                for (var i = 0; i < 20; i++)
                {
                    clock.Restart();
                    using var health = await http.GetAsync("/healthz");
                    await health.Content.ReadAsByteArrayAsync();
                    healthz.Add(clock.Elapsed.TotalMilliseconds);
                }
            }
            var rawRate = rawRates.Order().ElementAt(rawRates.Count / 2);
            var afterRaw = await MetricsAsync(http);

            // Upload to verdict: a one-page file into the idle pipeline, until GET /api/documents/{id} serves its final status.
            var latencies = new List<double>();
            foreach (var probe in probes)
            {
                var clock = Stopwatch.StartNew();
                var id = await UploadAsync(http, probe);
                for (var polls = 0; ; polls++)
                {
                    var state = await http.GetFromJsonAsync<JsonElement>($"/api/documents/{id}");
                    if (state.GetProperty("document").GetProperty("status").GetString() is { } s && Final.Contains(s)) break;
                    if (clock.Elapsed > TimeSpan.FromMinutes(1)) throw new InvalidOperationException($"document {id} was not processed within a minute");
                    await Task.Delay(5);
                }
                latencies.Add(clock.Elapsed.TotalMilliseconds);
            }

            var pipelineRate = chunks / pipelineSeconds;
            double Median(IEnumerable<double> values) => Math.Round(ServingBench.Percentile([.. values.Order()], 0.5), 1);
            var results = new Dictionary<string, object>
            {
                ["documents_files"] = files.Count,
                ["documents_chunks"] = chunks,
                ["documents_statuses"] = statuses,
                ["documents_uploaders"] = uploaders,
                ["documents_upload_phase_s"] = Math.Round(uploadSeconds, 2),
                ["documents_pipeline_s"] = Math.Round(pipelineSeconds, 2),
                ["documents_pipeline_chunks_per_s"] = Math.Round(pipelineRate, 1),
                ["documents_raw_chunks_per_s"] = Math.Round(rawRate, 1),
                ["documents_raw_chunks_per_s_rounds"] = rawRates.Select(r => Math.Round(r, 1)).ToArray(),
                ["documents_pipeline_overhead_ratio"] = Math.Round(pipelineRate / rawRate, 3),
                ["documents_per_minute"] = Math.Round(files.Count / pipelineSeconds * 60, 1),
                ["documents_upload_to_verdict_ms"] = Median(latencies),
                ["documents_upload_to_verdict_ms_all"] = latencies.Select(l => Math.Round(l, 1)).ToArray(),
                ["documents_healthz_p50_ms"] = Median(healthz),
                // Where the pipeline's time goes, from the app's own /metrics: time inside IModerator (the worker's chunk
                // batches and the uploads' titles and file names) and inside the upload requests, summed over calls (the
                // uploads overlap each other and the worker); the raw phase's time inside IModerator for one round.
                ["documents_pipeline_moderator_s"] = Math.Round(afterPipeline.ModeratorSeconds - before.ModeratorSeconds + workerModeratorSeconds, 2),
                ["documents_pipeline_upload_requests_s"] = Math.Round(afterPipeline.UploadSeconds - before.UploadSeconds, 2),
                ["documents_raw_moderator_s_per_round"] = Math.Round((afterRaw.ModeratorSeconds - afterPipeline.ModeratorSeconds) / rawRounds, 2),
                ["documents_worker_start_s"] = Math.Round(workerStartSeconds, 2),
            };
            Console.WriteLine(string.Join(", ", results.Select(f => $"{f.Key}{suffix} {(f.Value is System.Collections.IEnumerable e and not string ? JsonSerializer.Serialize(f.Value) : f.Value)}")));
            var merged = File.Exists(output) ? JsonSerializer.Deserialize<Dictionary<string, object>>(File.ReadAllText(output)) ?? [] : [];
            foreach (var (k, v) in results) merged[k + suffix] = v;
            File.WriteAllText(output, JsonSerializer.Serialize(merged, new JsonSerializerOptions { WriteIndented = true }));
            Console.WriteLine($"wrote {Path.GetFullPath(output)}");
            return 0;
        }
        finally
        {
            foreach (var process in new[] { app, worker }.OfType<Process>().Where(p => !p.HasExited))
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }
            worker?.Dispose();
            NpgsqlConnection.ClearAllPools();
            await using var admin = new NpgsqlConnection(baseConnection);
            await admin.OpenAsync();
            await using var drop = new NpgsqlCommand($"drop database if exists {name} with (force)", admin);
            await drop.ExecuteNonQueryAsync();
        }
    }

    static async Task ReadyAsync(HttpClient http, Process process)
    {
        for (var i = 0; ; i++)
        {
            try { if ((await http.GetAsync("/readyz")).IsSuccessStatusCode) return; }
            catch (HttpRequestException) { }
            if (process.HasExited || i > 600) throw new InvalidOperationException("the app did not become ready");
            await Task.Delay(100);
        }
    }

    sealed record Metrics(double ModeratorSeconds, double UploadSeconds);

    /// <summary>From the app's Prometheus scrape: seconds spent in IModerator (birbal.moderation.duration) and in POST /api/documents.</summary>
    static async Task<Metrics> MetricsAsync(HttpClient http)
    {
        double moderatorMs = 0, uploadSeconds = 0;
        foreach (var line in (await http.GetStringAsync("/metrics")).Split('\n'))
        {
            var space = line.LastIndexOf(' ');
            if (line.StartsWith('#') || space < 0) continue;
            var series = line[..space];
            if (!double.TryParse(line[(space + 1)..], System.Globalization.CultureInfo.InvariantCulture, out var value)) continue;
            if (series.StartsWith("birbal_moderation_duration_", StringComparison.Ordinal) && series.Contains("_sum", StringComparison.Ordinal))
                moderatorMs += value;
            else if (series.StartsWith("http_server_request_duration_seconds_sum", StringComparison.Ordinal)
                     && series.Contains("http_request_method=\"POST\"", StringComparison.Ordinal) && series.Contains("http_route=\"/api/documents/\"", StringComparison.Ordinal))
                uploadSeconds += value;
        }
        return new Metrics(moderatorMs / 1000, uploadSeconds);
    }

    sealed record BenchFile(string Name, string Type, byte[] Bytes);

    static async Task<Guid> UploadAsync(HttpClient http, BenchFile file)
    {
        using var form = new MultipartFormDataContent();
        var content = new ByteArrayContent(file.Bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        form.Add(content, "file", file.Name);
        using var response = await http.PostAsync("/api/documents", form);
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"uploading {file.Name}: {response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.GetProperty("document").GetProperty("id").GetGuid();
    }

    static async Task WaitAllFinalAsync(NpgsqlDataSource db, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        await using var connection = await db.OpenConnectionAsync();
        while (await ScalarAsync(connection, "select count(*) from documents.documents where status = 'processing'") > 0)
        {
            if (clock.Elapsed > timeout) throw new InvalidOperationException($"documents still processing after {timeout.TotalMinutes} minutes");
            await Task.Delay(20);
        }
    }

    static async Task<long> ScalarAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync());
    }

    /// <summary>
    /// The evaluation set's texts as paragraphs: mostly benign ones (hard negatives included), one in twenty toxic, as a
    /// library of members' documents would be; the languages mixed. PDFs take only the Latin-script languages, in ASCII (the
    /// writer's standard fonts have no Arabic or Devanagari, nor accents).
    /// </summary>
    sealed class Paragraphs(string evalDirectory, int seed)
    {
        readonly Random random = new(seed);
        readonly (string[] All, string[] Latin) benign = Load(evalDirectory, toxic: false);
        readonly (string[] All, string[] Latin) toxic = Load(evalDirectory, toxic: true);

        static (string[] All, string[] Latin) Load(string directory, bool toxic)
        {
            var texts = Directory.GetFiles(directory, "*.jsonl").Order(StringComparer.Ordinal)
                .SelectMany(File.ReadLines)
                .Select(l => JsonDocument.Parse(l).RootElement)
                .Where(e => (e.GetProperty("labels").GetArrayLength() > 0) == toxic)
                .Select(e => (Text: e.GetProperty("text").GetString()!.Trim(), Language: e.GetProperty("language").GetString()!))
                .Where(t => t.Text.Length > 0).ToList();
            return ([.. texts.Select(t => t.Text)], [.. texts.Where(t => t.Language is not ("ar" or "hi")).Select(t => Ascii(t.Text)).Where(t => t.Length > 0)]);
        }

        public string Next(bool latinOnly)
        {
            var parts = 1 + random.Next(4);
            return string.Join(" ", Enumerable.Range(0, parts).Select(_ =>
            {
                var from = random.Next(20) == 0 ? toxic : benign;
                var pool = latinOnly ? from.Latin : from.All;
                return pool[random.Next(pool.Length)];
            }));
        }

        public int Count(int min, int max) => min + random.Next(max - min + 1);
    }

    /// <summary>
    /// The text in the characters the PDF writer's standard Helvetica has: ASCII (its encoding is Adobe's standard one, with
    /// no accented letters), accents dropped, typographic quotes and dashes as their ASCII forms.
    /// </summary>
    static string Ascii(string text)
    {
        var builder = new StringBuilder(text.Length);
        foreach (var c in text.Replace('’', '\'').Replace('‘', '\'').Replace('“', '"').Replace('”', '"').Replace('–', '-').Replace('—', '-').Replace("…", "...")
                     .Replace("ß", "ss").Normalize(NormalizationForm.FormD))
            if (c is >= ' ' and <= '~') builder.Append(c);
        return builder.ToString();
    }

    static List<BenchFile> FileSet(string evalDirectory, int seed = 15, string prefix = "report")
    {
        var paragraphs = new Paragraphs(evalDirectory, seed);
        var files = new List<BenchFile>();
        for (var i = 0; i < Files; i++)
        {
            var type = Types[i % Types.Length];
            var text = Enumerable.Range(0, paragraphs.Count(3, 20)).Select(_ => paragraphs.Next(latinOnly: type == "pdf")).ToList();
            var title = $"Bench document {Spelled(i)}";
            var bytes = type switch
            {
                "txt" => Encoding.UTF8.GetBytes(string.Join("\n\n", text)),
                "md" => Encoding.UTF8.GetBytes($"# {title}\n\n" + string.Join("\n\n", text.Select((p, n) => n % 3 == 0 ? $"- {p}" : n % 3 == 1 ? $"**Note.** {p}" : p))),
                "html" => Encoding.UTF8.GetBytes($"<!doctype html><html><head><title>{title}</title><script>track()</script></head><body><h1>{title}</h1>"
                    + string.Concat(text.Select(p => $"<p>{System.Net.WebUtility.HtmlEncode(p)}</p>")) + "</body></html>"),
                "pdf" => Pdf(text),
                _ => Docx(text),
            };
            files.Add(new BenchFile($"{prefix}-{Spelled(i)}.{type}", type, bytes));
        }
        return files;
    }

    /// <summary>
    /// 136 as "one-three-six": the title (the file name) is moderated too, and the starter model holds some numbers in a
    /// name ("report-136.md" as sexual/minors, numbers being ages in its training texts).
    /// </summary>
    static string Spelled(int number) => string.Join("-", number.ToString("000").Select(d => Digits[d - '0']));

    static readonly string[] Digits = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"];

    static BenchFile OnePagePdf(int i, string evalDirectory)
    {
        var paragraphs = new Paragraphs(evalDirectory, 1000 + i);
        return new BenchFile($"probe-{Spelled(i)}.pdf", "pdf", Pdf([.. Enumerable.Range(0, 4).Select(_ => paragraphs.Next(latinOnly: true))], maxPages: 1));
    }

    /// <summary>A4 pages of 12-point Helvetica, lines wrapped at 90 characters, a blank line between paragraphs.</summary>
    static byte[] Pdf(IReadOnlyList<string> paragraphs, int maxPages = int.MaxValue)
    {
        var builder = new PdfDocumentBuilder();
        var font = builder.AddStandard14Font(Standard14Font.Helvetica);
        PdfPageBuilder? page = null;
        var y = 0.0;
        var pages = 0;
        foreach (var paragraph in paragraphs)
        {
            foreach (var line in Wrap(paragraph, 90))
            {
                if (page is null || y < 60)
                {
                    if (++pages > maxPages) return builder.Build();
                    page = builder.AddPage(UglyToad.PdfPig.Content.PageSize.A4);
                    y = 780;
                }
                page.AddText(line, 12, new PdfPoint(50, y), font);
                y -= 16;
            }
            y -= 16;
        }
        return builder.Build();
    }

    static IEnumerable<string> Wrap(string text, int width)
    {
        var line = new StringBuilder();
        foreach (var word in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.Length > 0 && line.Length + 1 + word.Length > width)
            {
                yield return line.ToString();
                line.Clear();
            }
            if (line.Length > 0) line.Append(' ');
            line.Append(word);
        }
        if (line.Length > 0) yield return line.ToString();
    }

    static byte[] Docx(IReadOnlyList<string> paragraphs)
    {
        using var stream = new MemoryStream();
        using (var word = WordprocessingDocument.Create(stream, DocumentFormat.OpenXml.WordprocessingDocumentType.Document))
        {
            var main = word.AddMainDocumentPart();
            main.Document = new Document(new Body(paragraphs.Select(p => new Paragraph(new Run(new Text(p))))));
        }
        return stream.ToArray();
    }
}
