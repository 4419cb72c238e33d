using System.Diagnostics;
using System.Text.Json;
using BirbalAI.Ml.WatchedWords;

namespace BirbalAI.Bench;

/// <summary>
/// What watched words add to moderating a short text: 1,000 words and phrases plus 100 regular expressions, drawn
/// from the evaluation set's own vocabulary (so lookups hit, phrases are checked and expressions match some texts),
/// against an empty list, on the evaluation set's texts of at most 200 characters. Reports ms per text (mean and p99).
/// </summary>
static class WatchedWordsBench
{
    public static int Run(string output, string evalDirectory)
    {
        var texts = Directory.GetFiles(evalDirectory, "*.jsonl").Order().SelectMany(File.ReadLines)
            .Select(l => JsonDocument.Parse(l).RootElement.GetProperty("text").GetString()!).Where(t => t.Length <= 200).ToList();
        // Words the texts use a few times each (2–6), as a real list's slurs and scam phrases are: some texts match, most do not.
        var random = new Random(13);
        var vocabulary = texts.SelectMany(t => WatchedText.Fold(t).Tokens.Select(k => k.Text)).Where(w => w.Length >= 4)
            .GroupBy(w => w).Where(g => g.Count() is >= 2 and <= 6).Select(g => g.Key).Order(StringComparer.Ordinal)
            .Select(w => (Key: random.Next(), Word: w)).OrderBy(p => p.Key).Select(p => p.Word).ToList();
        string[] actions = [WatchedWord.Actions.Block, WatchedWord.Actions.RequireApproval, WatchedWord.Actions.Flag, WatchedWord.Actions.Censor];
        var words = vocabulary.Take(900).Select((w, i) => new WatchedWord(Guid.NewGuid(), w, WatchedWord.Kinds.Word, actions[i % actions.Length], null, null, null))
            .Concat(Enumerable.Range(0, 100).Select(i => new WatchedWord(Guid.NewGuid(), $"{vocabulary[1200 + 2 * i]} {vocabulary[1201 + 2 * i]}", WatchedWord.Kinds.Word, WatchedWord.Actions.Block, null, null, null)))
            .Concat(Enumerable.Range(0, 100).Select(i => new WatchedWord(Guid.NewGuid(), i % 2 == 0 ? $"{vocabulary[1500 + i][..3]}\\w*{vocabulary[1600 + i][^2..]}" : $"{vocabulary[1700 + i]}s? [0-9]+",
                WatchedWord.Kinds.Regex, WatchedWord.Actions.Flag, null, null, null)))
            .ToList();
        var withWords = new WatchedWordMatcher(words, TimeSpan.FromMilliseconds(50));
        var without = WatchedWordMatcher.Empty;

        double PerText(WatchedWordMatcher matcher, List<double>? each)
        {
            var matched = 0;
            var started = Stopwatch.GetTimestamp();
            foreach (var t in texts)
            {
                var one = Stopwatch.GetTimestamp();
                var matches = matcher.Match(t, "en");
                if (matches.Count > 0) { matched++; _ = WatchedWordMatcher.Display(t, matches, matcher.Entries); }
                each?.Add(Stopwatch.GetElapsedTime(one).TotalMilliseconds);
            }
            if (each is not null) Console.WriteLine($"{matched} of {texts.Count} texts matched");
            return Stopwatch.GetElapsedTime(started).TotalMilliseconds / texts.Count;
        }

        for (var i = 0; i < 3; i++) { PerText(withWords, null); PerText(without, null); }   // warm up (JIT, the regex's lazy DFA)
        var rounds = new List<double>();
        var baseline = new List<double>();
        var each = new List<double>();
        for (var i = 0; i < 7; i++)
        {
            baseline.Add(PerText(without, null));
            rounds.Add(PerText(withWords, i == 0 ? each : null));
        }
        var median = rounds.Order().ElementAt(rounds.Count / 2) - baseline.Order().ElementAt(baseline.Count / 2);
        each.Sort();
        var p99 = each[(int)(each.Count * 0.99)];
        Console.WriteLine($"watched words ({words.Count(w => w.Kind == "word")} words and phrases, {words.Count(w => w.Kind == "regex")} expressions) on {texts.Count} short texts: "
            + $"{median:0.0000} ms per text (median of 7 rounds), p99 {p99:0.0000} ms");
        var merged = File.Exists(output) ? JsonSerializer.Deserialize<Dictionary<string, object>>(File.ReadAllText(output)) ?? [] : [];
        merged["watched_words_overhead_ms"] = Math.Round(median, 4);
        merged["watched_words_overhead_p99_ms"] = Math.Round(p99, 4);
        File.WriteAllText(output, JsonSerializer.Serialize(merged, new JsonSerializerOptions { WriteIndented = true }));
        Console.WriteLine($"wrote {Path.GetFullPath(output)}");
        return 0;
    }
}
