using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;

namespace BirbalAI.Bench;

/// <summary>
/// The labelling queue under a large project: the real app process (Production settings) on the test servers, in a
/// database of its own that is dropped afterwards, with a labelling project of 100,000 open tasks (BENCH_ANNOTATION_TASKS)
/// seeded in SQL. One Annotator (an API key) works through the queue: GET …/next (the call that serves and reserves the
/// next task) then POST …/annotations (submitting a label), one after the other, timed apiece; /healthz is timed the same
/// way in the same run as the reference floor of the HTTP stack on this machine.
/// </summary>
static class AnnotationBench
{
    public static async Task<int> RunAsync(string output, string appDll, string modelDirectory)
    {
        var tasks = int.TryParse(Environment.GetEnvironmentVariable("BENCH_ANNOTATION_TASKS"), out var n) ? n : 100_000;
        var rounds = int.TryParse(Environment.GetEnvironmentVariable("BENCH_ANNOTATION_ROUNDS"), out var r) ? r : 1_000;
        var baseConnection = Environment.GetEnvironmentVariable("Database__ConnectionString") ?? throw new InvalidOperationException("run through bench/annotation/run.sh");
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
            ["Logging__LogLevel__Default"] = "Warning",
        };
        var contentRoot = Path.GetDirectoryName(appDll)!;
        var key = (await ServingBench.RunAsync(appDll, environment, $"--contentRoot={contentRoot} apikey create --user service --name bench-annotator --role Annotator"))
            .Trim().Split('\n')[^1].Trim();
        using var app = ServingBench.Start(appDll, environment, $"--contentRoot={contentRoot}");
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(30) };
            http.DefaultRequestHeaders.Authorization = new("Bearer", key);
            for (var i = 0; ; i++)
            {
                try { if ((await http.GetAsync("/readyz")).IsSuccessStatusCode) break; }
                catch (HttpRequestException) { }
                if (app.HasExited || i > 600) throw new InvalidOperationException("the app did not become ready");
                await Task.Delay(100);
            }

            var project = Guid.CreateVersion7();
            var seeding = Stopwatch.StartNew();
            await using (var connection = new NpgsqlConnection(database))
            {
                await connection.OpenAsync();
                // The project's categories as the moderation project's (created at start-up); tasks of random severity and age,
                // a tenth of them severe, as a project filled by imports and active learning would be.
                await using var seed = new NpgsqlCommand("""
                    insert into annotation.projects (id, name, kind, categories, overlap, reservation_minutes, guidelines, open_to_annotators)
                    select @project, 'bench', 'labelling', categories, 1, 15, 'bench', false from annotation.projects where kind = 'moderation';
                    insert into annotation.project_members (project_id, user_id) select @project, id from identity.users where display_name = 'bench-annotator';
                    insert into annotation.tasks (id, project_id, source, kind, text, language, severity, severe, created_at)
                    select gen_random_uuid(), @project, 'import', 'item', 'bench item ' || g || ' with a few words of text to label', 'en',
                           random() + case when g % 10 = 0 then 1 else 0 end, g % 10 = 0, now() - make_interval(secs => g)
                    from generate_series(1, @tasks) g;
                    analyze annotation.tasks;
                    """, connection);
                seed.Parameters.AddWithValue("project", project);
                seed.Parameters.AddWithValue("tasks", tasks);
                seed.CommandTimeout = 600;
                await seed.ExecuteNonQueryAsync();
            }
            Console.WriteLine($"seeded {tasks} tasks in {seeding.Elapsed.TotalSeconds:0.0} s");

            var next = new List<double>();
            var submit = new List<double>();
            var healthz = new List<double>();
            var categories = new[] { "harassment", "hate", "violence" };
            for (var i = 0; i < rounds + 50; i++)   // the first 50 warm up
            {
                var clock = Stopwatch.StartNew();
                using var served = await http.GetAsync($"/api/annotation/projects/{project}/next");
                var body = await served.Content.ReadFromJsonAsync<JsonElement>();
                var nextMs = clock.Elapsed.TotalMilliseconds;
                if (!served.IsSuccessStatusCode || body.GetProperty("task").ValueKind != JsonValueKind.Object)
                    throw new InvalidOperationException($"no task served: {served.StatusCode} {body}");
                var task = body.GetProperty("task").GetProperty("id").GetGuid();
                clock.Restart();
                using var submitted = await http.PostAsJsonAsync($"/api/annotation/tasks/{task}/annotations",
                    new { categories = i % 3 == 0 ? [] : new[] { categories[i % categories.Length] }, severities = i % 3 == 1 ? new Dictionary<string, int> { [categories[i % categories.Length]] = 2 } : null });
                await submitted.Content.ReadAsByteArrayAsync();
                var submitMs = clock.Elapsed.TotalMilliseconds;
                if (!submitted.IsSuccessStatusCode) throw new InvalidOperationException($"submitting failed: {submitted.StatusCode}");
                clock.Restart();
                using var health = await http.GetAsync("/healthz");
                await health.Content.ReadAsByteArrayAsync();
                var healthMs = clock.Elapsed.TotalMilliseconds;
                if (i < 50) continue;
                next.Add(nextMs);
                submit.Add(submitMs);
                healthz.Add(healthMs);
            }
            double P(List<double> values, double p) => Math.Round(ServingBench.Percentile([.. values.Order()], p), 2);
            var results = new Dictionary<string, object>
            {
                ["annotation_tasks_seeded"] = tasks,
                ["annotation_rounds"] = rounds,
                ["annotation_next_task_p50_ms"] = P(next, 0.5),
                ["annotation_next_task_p95_ms"] = P(next, 0.95),
                ["annotation_submit_p50_ms"] = P(submit, 0.5),
                ["annotation_submit_p95_ms"] = P(submit, 0.95),
                ["annotation_healthz_p95_ms"] = P(healthz, 0.95),
            };
            Console.WriteLine(string.Join(", ", results.Select(f => $"{f.Key} {f.Value}")));
            var merged = File.Exists(output) ? JsonSerializer.Deserialize<Dictionary<string, object>>(File.ReadAllText(output)) ?? [] : [];
            foreach (var (k, v) in results) merged[k] = v;
            File.WriteAllText(output, JsonSerializer.Serialize(merged, new JsonSerializerOptions { WriteIndented = true }));
            Console.WriteLine($"wrote {Path.GetFullPath(output)}");
            return 0;
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
}
