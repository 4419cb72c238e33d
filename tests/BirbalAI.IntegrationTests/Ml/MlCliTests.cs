using System.Text.Json;
using BirbalAI.IntegrationTests.Hosting;

namespace BirbalAI.IntegrationTests.Ml;

/// <summary>`ml train` and `ml eval` on the real executable; they need no server.</summary>
public sealed class MlCliTests : IDisposable
{
    readonly string folder = Directory.CreateTempSubdirectory("birbal-ml-cli-").FullName;
    static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);
    static readonly Dictionary<string, string?> NoSettings = [];

    public void Dispose() => Directory.Delete(folder, recursive: true);

    string Write(string name, IEnumerable<string> lines)
    {
        var path = Path.Combine(folder, name);
        File.WriteAllLines(path, lines);
        return path;
    }

    static IEnumerable<string> Toy(int count) => Enumerable.Range(0, count).Select(i => i % 3 == 0
        ? $$"""{"text": "you are a clown number {{i}}", "labels": ["harassment"]}"""
        : $$"""{"text": "lovely weather on day {{i}}", "labels": []}""");

    [Fact]
    public async Task Train_writes_a_model_folder_and_eval_reports_json()
    {
        var data = Write("toy.jsonl", Toy(300));
        var model = Path.Combine(folder, "model");

        await using (var train = AppProcess.Start(NoSettings, "ml", "train", "--data", data, "--out", model, "--epochs", "5", "--buckets", "5000", "--dim", "8"))
        {
            Assert.True(await train.ExitCodeAsync(Patience) == 0, train.Errors);
            Assert.StartsWith("ml train: ", train.Output.Trim().Split('\n')[^1]);
        }
        Assert.True(File.Exists(Path.Combine(model, "model.onnx")));
        await using var eval = AppProcess.Start(NoSettings, "ml", "eval", "--model", model, "--data", data);

        Assert.True(await eval.ExitCodeAsync(Patience) == 0, eval.Errors);
        var report = JsonDocument.Parse(eval.Output[eval.Output.IndexOf('{')..]).RootElement;
        Assert.Equal(300, report.GetProperty("examples").GetInt32());
        Assert.True(report.GetProperty("micro_f1").GetDouble() > 0.9);
        Assert.Equal(13, report.GetProperty("categories").GetArrayLength());
    }

    [Fact]
    public async Task Eval_scores_an_ensemble_folder_as_served()
    {
        var data = Write("mixed.jsonl", [.. Toy(12), """{"text": "ni siquiera sabes escribir, payaso inútil", "labels": ["harassment"], "language": "es"}"""]);

        await using var eval = AppProcess.Start(NoSettings, "ml", "eval", "--model", StarterModels.Directory, "--data", data);

        Assert.True(await eval.ExitCodeAsync(Patience) == 0, eval.Errors);
        var report = JsonDocument.Parse(eval.Output[eval.Output.IndexOf('{')..]).RootElement;
        Assert.Equal(13, report.GetProperty("examples").GetInt32());
        Assert.True(report.GetProperty("per_language_macro_f1").TryGetProperty("es", out _), report.ToString());
    }

    [Fact]
    public async Task Bad_rows_are_reported_by_line_number_and_nothing_is_written()
    {
        var data = Write("bad.jsonl", [.. Toy(5), """{"text": "x", "labels": ["nonsense"]}""", "{oops", .. Toy(2)]);
        var model = Path.Combine(folder, "never");

        await using var train = AppProcess.Start(NoSettings, "ml", "train", "--data", data, "--out", model);

        Assert.Equal(2, await train.ExitCodeAsync(Patience));
        var line = train.Errors.Trim();
        Assert.StartsWith("usage: ", line);
        Assert.Contains("2 bad row(s)", line);
        Assert.Contains("line 6: unknown category \"nonsense\"", line);
        Assert.Contains("line 7: not valid JSON", line);
        Assert.False(Directory.Exists(model));
        Assert.Empty(Directory.GetDirectories(folder));
    }

    [Theory]
    [InlineData("--epochs", "0", "--epochs must be a whole number from 1 to 1000")]
    [InlineData("--dim", "big", "--dim must be a whole number from 2 to 1024")]
    [InlineData("--validation", "0.9", "--validation must be a number from 0 to 0.5")]
    public async Task Out_of_range_settings_are_refused_in_one_line(string option, string value, string message)
    {
        var data = Write("toy.jsonl", Toy(10));

        await using var train = AppProcess.Start(NoSettings, "ml", "train", "--data", data, "--out", Path.Combine(folder, "m"), option, value);

        Assert.Equal(2, await train.ExitCodeAsync(Patience));
        Assert.Contains(message, train.Errors);
    }
}
