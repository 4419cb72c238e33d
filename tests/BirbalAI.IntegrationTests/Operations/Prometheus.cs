using System.Globalization;
using System.Text.RegularExpressions;

namespace BirbalAI.IntegrationTests.Operations;

/// <summary>One sample of a scrape in Prometheus' text format: <c>name{label="value",…} 12.5</c>.</summary>
public sealed record PrometheusSample(string Name, IReadOnlyDictionary<string, string> Labels, double Value)
{
    static readonly Regex Line = new(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>.*)\})?\s+(?<value>\S+)", RegexOptions.Compiled);
    static readonly Regex Label = new(@"(?<key>[a-zA-Z_][a-zA-Z0-9_]*)=""(?<value>(?:[^""\\]|\\.)*)""", RegexOptions.Compiled);

    public static IReadOnlyList<PrometheusSample> Parse(string text) =>
    [
        .. text.Split('\n').Where(l => l.Length > 0 && l[0] != '#').Select(l => Line.Match(l)).Where(m => m.Success).Select(m =>
            new PrometheusSample(m.Groups["name"].Value,
                Label.Matches(m.Groups["labels"].Value).ToDictionary(l => l.Groups["key"].Value, l => l.Groups["value"].Value),
                double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture))),
    ];
}

public static class PrometheusSamples
{
    /// <summary>The samples named <paramref name="name"/> whose labels include every one of <paramref name="labels"/>.</summary>
    public static IEnumerable<PrometheusSample> Named(this IEnumerable<PrometheusSample> samples, string name, params (string Key, string Value)[] labels) =>
        samples.Where(s => s.Name == name && labels.All(l => s.Labels.TryGetValue(l.Key, out var v) && v == l.Value));
}
