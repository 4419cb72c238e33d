namespace BirbalAI.Ml;

/// <summary>The categories models are trained on by default (the contract's taxonomy, which other modules see too).</summary>
static class Categories
{
    public static IReadOnlyList<string> Default => Contracts.Ml.ModerationCategories.Default;
}
