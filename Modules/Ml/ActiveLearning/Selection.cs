using System.Text.RegularExpressions;
using BirbalAI.Ml.Text;

namespace BirbalAI.Ml.ActiveLearning;

/// <summary>A stored, unlabelled item and the new version's scores for it.</summary>
sealed record Candidate(string Source, Guid ContentId, string Text, string Language, IReadOnlyDictionary<string, float> Scores);

/// <summary>A candidate chosen, with the category it is least sure about: its score and that category's threshold.</summary>
sealed record Choice(Candidate Item, string Category, float Score, float Threshold)
{
    public float Margin => Math.Abs(Score - Threshold);
}

/// <summary>
/// Which items a person should label next. Each candidate's least certain category is the one whose score is nearest its policy
/// threshold (review, or reject where review is off; a category with both off is never the reason). Candidates are grouped by
/// (language, that category) and taken in turns, each group nearest-first, so one language or category cannot fill the budget;
/// a candidate whose words overlap a chosen one's by <c>nearDuplicate</c> (Jaccard) or more is skipped.
/// </summary>
static partial class Selection
{
    public static IReadOnlyList<Choice> Choose(IReadOnlyList<Candidate> candidates, Func<string, Policy.Thresholds> thresholds, int budget, double nearDuplicate)
    {
        if (budget <= 0) return [];
        var ranked = candidates.Select(c => Least(c, thresholds)).OfType<Choice>()
            .GroupBy(c => (c.Item.Language, c.Category))
            .Select(g => new Queue<Choice>(g.OrderBy(c => c.Margin).ThenBy(c => c.Item.ContentId)))
            .OrderBy(q => q.Peek().Margin).ThenBy(q => q.Peek().Item.ContentId).ToList();
        var chosen = new List<Choice>();
        var words = new List<HashSet<string>>();
        while (chosen.Count < budget && ranked.Any(q => q.Count > 0))
            foreach (var queue in ranked.Where(q => q.Count > 0))
            {
                if (chosen.Count >= budget) break;
                var next = queue.Dequeue();
                var set = Words(next.Item.Text);
                if (words.Any(w => Jaccard(w, set) >= nearDuplicate)) continue;
                chosen.Add(next);
                words.Add(set);
            }
        return chosen;
    }

    static Choice? Least(Candidate c, Func<string, Policy.Thresholds> thresholds)
    {
        Choice? best = null;
        foreach (var (category, score) in c.Scores)
        {
            var t = thresholds(category);
            var threshold = t.Review < 1 ? t.Review : t.Reject < 1 ? t.Reject : (float?)null;
            if (threshold is not { } at) continue;
            var choice = new Choice(c, category, score, at);
            if (best is null || choice.Margin < best.Margin || (choice.Margin == best.Margin && string.CompareOrdinal(category, best.Category) < 0)) best = choice;
        }
        return best;
    }

    /// <summary>The text's words once normalised (look-alike letters, accents), in lower case and without punctuation, for near-duplicate checks.</summary>
    static HashSet<string> Words(string text) =>
        [.. NonWord().Split(TextNormalizer.Normalize(text).ToLowerInvariant()).Where(w => w.Length > 0)];

    [GeneratedRegex(@"[^\p{L}\p{N}]+")]
    private static partial Regex NonWord();

    static double Jaccard(HashSet<string> a, HashSet<string> b)
    {
        if (a.Count == 0 && b.Count == 0) return 1;
        var shared = a.Count(b.Contains);
        return (double)shared / (a.Count + b.Count - shared);
    }
}
