using System.Security.Cryptography;

namespace BirbalAI.Ml.Datasets;

/// <summary>
/// The train/validation/test split, stratified by category and language and stable across snapshots. An example keeps the
/// split it was first given; examples without one are given one stratum by stratum (language × first category, "none" for
/// benign), in the order of a hash of their id, each to the split furthest below its share of the stratum. So every stratum
/// holds its shares (to one example) and an example never moves, whatever is added or removed later.
/// </summary>
static class DatasetSplit
{
    public const string Train = "train", Validation = "validation", Test = "test";

    public sealed record Item(Guid Id, string Stratum, string? Split);

    public static string Stratum(string language, IReadOnlyList<string> categories, IReadOnlyList<string> taxonomy)
    {
        var first = categories.Count == 0 ? "none"
            : categories.OrderBy(c => taxonomy.IndexOf(c) is var i and >= 0 ? i : int.MaxValue).ThenBy(c => c, StringComparer.Ordinal).First();
        return $"{language}|{first}";
    }

    /// <summary>The split of every item without one (id → split); items with one keep it.</summary>
    public static Dictionary<Guid, string> Assign(IReadOnlyList<Item> items, double validationShare, double testShare)
    {
        var assigned = new Dictionary<Guid, string>();
        foreach (var stratum in items.GroupBy(i => i.Stratum))
        {
            var counts = new Dictionary<string, int> { [Train] = 0, [Validation] = 0, [Test] = 0 };
            foreach (var item in stratum.Where(i => i.Split is not null)) counts[item.Split!]++;
            var total = counts.Values.Sum();
            foreach (var item in stratum.Where(i => i.Split is null).OrderBy(i => Key(i.Id)).ThenBy(i => i.Id))
            {
                total++;
                // Furthest below its share after this one; on a tie test first, then validation: small strata get a test example early.
                var split = new[] { (Test, testShare), (Validation, validationShare), (Train, 1 - testShare - validationShare) }
                    .Where(s => s.Item2 > 0)
                    .MaxBy(s => s.Item2 * total - counts[s.Item1] - (s.Item1 == Train ? 1e-9 : 0)).Item1;
                counts[split]++;
                assigned[item.Id] = split;
            }
        }
        return assigned;
    }

    /// <summary>A stable pseudo-random key of an id (the first 8 bytes of its SHA-256): the same on every machine and run.</summary>
    static ulong Key(Guid id) => BitConverter.ToUInt64(SHA256.HashData(id.ToByteArray()), 0);

    static int IndexOf(this IReadOnlyList<string> list, string value)
    {
        for (var i = 0; i < list.Count; i++) if (list[i] == value) return i;
        return -1;
    }
}
