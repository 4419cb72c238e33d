using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using BirbalAI.Ml.Data;

namespace BirbalAI.Ml.Starter;

/// <summary>One written example of the starter corpus, with what the corpus checks need beyond the label.</summary>
sealed record CorpusExample(string Text, IReadOnlyList<string> Labels, string Language, string Group, string? Family, IReadOnlyList<string> Tags, string File, int Line = 0)
{
    public bool IsHardNegative => Labels.Count == 0 && Family is not null;

    /// <summary>Arabizi and code-switched lines are tagged: the language detector is not asked about them.</summary>
    public bool ExemptFromLanguageCheck => Tags.Contains("arabizi") || Tags.Contains("code-switched");

    public LabelledText ToLabelled() => new(Text, Labels, Group, Language);
}

/// <summary>
/// The starter corpus: labelled examples the project's own trust-and-safety writers wrote by
/// <c>LABELLING.md</c>, one JSONL file per category family and language under <c>Starter/Corpus/&lt;language&gt;/</c>,
/// embedded in the assembly (the product needs no files beside it). Reviewed like code; the evaluation set
/// (<c>bench/eval</c>) was written first, by other writers, and is never read here.
/// </summary>
static class StarterCorpus
{
    const string ResourcePrefix = "BirbalAI.Ml.Starter.Corpus.";

    static readonly Lazy<IReadOnlyList<CorpusExample>> All = new(Load);

    public static IReadOnlyList<CorpusExample> Examples => All.Value;

    /// <summary>SHA-256 of every corpus file's bytes in name order: the starter model is trained again when it changes.</summary>
    public static string Hash { get; } = ComputeHash();

    static IEnumerable<string> ResourceNames() =>
        typeof(StarterCorpus).Assembly.GetManifestResourceNames().Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal) && n.EndsWith(".jsonl", StringComparison.Ordinal)).Order(StringComparer.Ordinal);

    static string ComputeHash()
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var name in ResourceNames())
        {
            sha.AppendData(Encoding.UTF8.GetBytes(name));
            using var stream = typeof(StarterCorpus).Assembly.GetManifestResourceStream(name)!;
            using var memory = new MemoryStream();
            stream.CopyTo(memory);
            sha.AppendData(memory.ToArray());
        }
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    static IReadOnlyList<CorpusExample> Load()
    {
        var known = Categories.Default.ToHashSet(StringComparer.Ordinal);
        var examples = new List<CorpusExample>();
        var errors = new List<string>();
        foreach (var name in ResourceNames())
        {
            var file = name[ResourcePrefix.Length..];
            using var reader = new StreamReader(typeof(StarterCorpus).Assembly.GetManifestResourceStream(name)!, Encoding.UTF8);
            var number = 0;
            while (reader.ReadLine() is { } line)
            {
                number++;
                if (string.IsNullOrWhiteSpace(line)) continue;
                try { examples.Add(Parse(line, file, known) with { Line = number }); }
                catch (Exception e) when (e is JsonException or InvalidDataException or KeyNotFoundException or InvalidOperationException)
                {
                    errors.Add($"{file}:{number}: {e.Message}");
                }
            }
        }
        if (errors.Count > 0) throw new DataFileException("starter corpus", errors);
        return examples;
    }

    static CorpusExample Parse(string line, string file, HashSet<string> known)
    {
        using var json = JsonDocument.Parse(line);
        var root = json.RootElement;
        var text = root.GetProperty("text").GetString() ?? throw new InvalidDataException("no text");
        var labels = root.GetProperty("labels").EnumerateArray().Select(l => l.GetString()!).ToList();
        foreach (var label in labels)
        {
            if (!known.Contains(label)) throw new InvalidDataException($"unknown category \"{label}\"");
            if (label.Contains('/') && !labels.Contains(label.Split('/')[0])) throw new InvalidDataException($"{label} without its parent");
        }
        var tags = root.TryGetProperty("tags", out var t) ? t.EnumerateArray().Select(x => x.GetString()!).ToList() : [];
        var family = root.TryGetProperty("family", out var f) ? f.GetString() : null;
        if (family is not null && labels.Count > 0) throw new InvalidDataException("a hard negative (family) must be benign");
        return new CorpusExample(text, labels, root.GetProperty("language").GetString()!, root.GetProperty("group").GetString()!, family, tags, file);
    }
}
