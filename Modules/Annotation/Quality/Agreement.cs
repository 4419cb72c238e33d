namespace BirbalAI.Annotation.Quality;

/// <summary>Agreement on one category: Krippendorff's alpha (null without variation) and the share of agreeing pairs, over the tasks with 2+ labels.</summary>
sealed record CategoryAgreement(string Category, double? Alpha, double? Pairwise, int Tasks);

/// <summary>
/// Inter-annotator agreement, per category: each task is a unit, each label a value (the category given or not).
/// Tasks with fewer than two labels (missing assignments) add nothing, as Krippendorff's alpha defines.
/// </summary>
static class Agreement
{
    /// <summary>
    /// Krippendorff's alpha for nominal data: 1 − D_o/D_e from the coincidence matrix, where a unit of m values adds
    /// n_uc·n_uk/(m−1) to o_ck. Null when the values never vary (D_e = 0) or no unit has two values.
    /// </summary>
    public static double? Alpha<T>(IEnumerable<IReadOnlyList<T>> units) where T : notnull
    {
        var o = new Dictionary<(T, T), double>();
        foreach (var unit in units.Where(u => u.Count >= 2))
        {
            var counts = unit.GroupBy(v => v).ToDictionary(g => g.Key, g => (double)g.Count());
            foreach (var (c, nc) in counts)
                foreach (var (k, nk) in counts)
                {
                    var pairs = c.Equals(k) ? nc * (nc - 1) : nc * nk;
                    o[(c, k)] = o.GetValueOrDefault((c, k)) + pairs / (unit.Count - 1);
                }
        }
        if (o.Count == 0) return null;
        var n = o.GroupBy(p => p.Key.Item1).ToDictionary(g => g.Key, g => g.Sum(p => p.Value));
        var total = n.Values.Sum();
        var observed = o.Where(p => !p.Key.Item1.Equals(p.Key.Item2)).Sum(p => p.Value);
        var expected = n.SelectMany(c => n.Where(k => !k.Key.Equals(c.Key)).Select(k => c.Value * k.Value)).Sum() / (total - 1);
        return expected == 0 ? null : 1 - observed / expected;
    }

    /// <summary>The share of pairs of labels on the same task that agree; null when no task has two labels.</summary>
    public static double? Pairwise<T>(IEnumerable<IReadOnlyList<T>> units) where T : notnull
    {
        double pairs = 0, agreeing = 0;
        foreach (var unit in units.Where(u => u.Count >= 2))
        {
            pairs += unit.Count * (unit.Count - 1) / 2.0;
            agreeing += unit.GroupBy(v => v).Sum(g => g.Count() * (g.Count() - 1) / 2.0);
        }
        return pairs == 0 ? null : agreeing / pairs;
    }

    /// <summary>Per category of <paramref name="categories"/>: each task's labels (one set of categories per annotator) as present/absent values.</summary>
    public static IReadOnlyList<CategoryAgreement> PerCategory(IReadOnlyList<IReadOnlyList<IReadOnlyCollection<string>>> tasks, IEnumerable<string> categories) =>
        [.. categories.Select(category =>
        {
            var units = tasks.Select(labels => (IReadOnlyList<bool>)labels.Select(l => l.Contains(category)).ToList()).ToList();
            return new CategoryAgreement(category, Alpha(units), Pairwise(units), units.Count(u => u.Count >= 2));
        })];
}
