using BirbalAI.Ml.ActiveLearning;
using BirbalAI.Ml.Policy;

namespace BirbalAI.Ml.Tests.ActiveLearning;

public sealed class SelectionTests
{
    static readonly Thresholds Half = new(0.5f, 0.9f);

    static Candidate Item(int n, string text, string language, params (string Category, float Score)[] scores) =>
        new("chat.message", new Guid(n, 0, 0, new byte[8]), text, language, scores.ToDictionary(s => s.Category, s => s.Score));

    [Fact]
    public void The_least_certain_come_first_and_each_names_the_category_nearest_its_threshold()
    {
        var candidates = new[]
        {
            Item(1, "sure it is fine", "en", ("hate", 0.02f), ("violence", 0.05f)),
            Item(2, "hard to say", "en", ("hate", 0.10f), ("violence", 0.48f)),
            Item(3, "somewhat unclear", "en", ("hate", 0.40f), ("violence", 0.10f)),
        };

        var chosen = Selection.Choose(candidates, _ => Half, 2, 0.8);

        Assert.Equal([(2, "violence", 0.48f), (3, "hate", 0.40f)], chosen.Select(c => (c.Item.ContentId.ToByteArray()[0] | 0, c.Category, c.Score)));
        Assert.Equal(0.5f, chosen[0].Threshold);
    }

    [Fact]
    public void Languages_and_categories_take_turns_so_one_group_cannot_fill_the_budget()
    {
        // Four English harassment items nearer their threshold than any other, one German and one violence item further off.
        var candidates = Enumerable.Range(1, 4).Select(n => Item(n, $"english line number {n} about things", "en", ("harassment", 0.5f - n * 0.001f)))
            .Append(Item(10, "ein deutscher satz", "de", ("harassment", 0.30f)))
            .Append(Item(11, "another english line on violence", "en", ("violence", 0.20f))).ToList();

        var chosen = Selection.Choose(candidates, _ => Half, 3, 0.8);

        Assert.Equal(3, chosen.Count);
        Assert.Equal(["en", "de", "en"], chosen.Select(c => c.Item.Language));
        Assert.Equal(["harassment", "harassment", "violence"], chosen.Select(c => c.Category));
    }

    [Fact]
    public void Near_duplicates_are_proposed_once_and_a_category_whose_actions_are_off_is_never_the_reason()
    {
        var candidates = new[]
        {
            Item(1, "you will regret this tonight", "en", ("harassment", 0.49f), ("sexual", 0.999f)),
            Item(2, "You will REGRET this tonight!", "en", ("harassment", 0.48f)),
            Item(3, "the meeting moved to friday", "en", ("harassment", 0.20f)),
        };
        Thresholds Policy(string category) => category == "sexual" ? new(1f, 1f) : Half;

        var chosen = Selection.Choose(candidates, Policy, 5, 0.8);

        Assert.Equal([1, 3], chosen.Select(c => (int)c.Item.ContentId.ToByteArray()[0]));
        Assert.All(chosen, c => Assert.Equal("harassment", c.Category));
        Assert.Empty(Selection.Choose(candidates, Policy, 0, 0.8));
    }
}
