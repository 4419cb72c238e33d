using BirbalAI.Ml.Datasets;

namespace BirbalAI.Ml.Tests.Datasets;

public sealed class DatasetSplitTests
{
    static List<DatasetSplit.Item> Items(int count, string stratum) =>
        [.. Enumerable.Range(0, count).Select(_ => new DatasetSplit.Item(Guid.NewGuid(), stratum, null))];

    [Fact]
    public void Every_stratum_gets_its_shares_to_one_example()
    {
        var items = Items(100, "en|hate").Concat(Items(30, "de|none")).Concat(Items(10, "fr|violence")).ToList();

        var splits = DatasetSplit.Assign(items, 0.1, 0.1);

        foreach (var (stratum, size) in new[] { ("en|hate", 100), ("de|none", 30), ("fr|violence", 10) })
        {
            var mine = items.Where(i => i.Stratum == stratum).Select(i => splits[i.Id]).ToList();
            Assert.Equal(size, mine.Count);
            Assert.InRange(mine.Count(s => s == DatasetSplit.Test), size / 10, size / 10 + 1);
            Assert.InRange(mine.Count(s => s == DatasetSplit.Validation), size / 10, size / 10 + 1);
        }
    }

    [Fact]
    public void Examples_keep_their_split_when_more_arrive_and_new_ones_fill_the_shares()
    {
        var first = Items(40, "en|hate");
        var before = DatasetSplit.Assign(first, 0.1, 0.2);
        var second = first.Select(i => i with { Split = before[i.Id] }).Concat(Items(60, "en|hate")).ToList();

        var after = DatasetSplit.Assign(second, 0.1, 0.2);

        Assert.DoesNotContain(first, i => after.ContainsKey(i.Id));   // only the new ones are assigned
        var all = second.Select(i => i.Split ?? after[i.Id]).ToList();
        Assert.Equal(20, all.Count(s => s == DatasetSplit.Test));
        Assert.Equal(10, all.Count(s => s == DatasetSplit.Validation));
    }

    [Fact]
    public void The_assignment_depends_on_the_ids_not_their_order()
    {
        var items = Items(50, "en|none");
        var reversed = Enumerable.Reverse(items).ToList();

        Assert.Equal(DatasetSplit.Assign(items, 0.1, 0.1).OrderBy(p => p.Key), DatasetSplit.Assign(reversed, 0.1, 0.1).OrderBy(p => p.Key));
    }

    [Fact]
    public void The_stratum_is_the_language_and_the_first_category_of_the_taxonomy()
    {
        Assert.Equal("en|none", DatasetSplit.Stratum("en", [], Categories.Default));
        Assert.Equal("de|hate", DatasetSplit.Stratum("de", ["violence", "hate"], Categories.Default));
    }
}
