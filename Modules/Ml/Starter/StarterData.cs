using BirbalAI.Ml.Data;

namespace BirbalAI.Ml.Starter;

/// <summary>
/// The project's own starter data, so the product moderates from its first start: templates and word lists
/// written for Birbal AI in every supported language, for all 13 categories, plenty of benign text and hard
/// negatives ("I hate Mondays", news about violence, medical talk about self-harm, reclaimed words).
/// Deliberately non-graphic: sexual/minors and self-harm/instructions appear only as short phrasings that
/// name the intent in general words. Deterministic for a seed; every example carries its template as its
/// group, so a split by group keeps each template on one side.
/// </summary>
static class StarterData
{
    /// <summary>Bump when templates, word lists or the generator change: the cached starter model is rebuilt.</summary>
    public const string Version = "starter-2026-11-26.2";

    public const int PerTemplate = 90;

    public static IReadOnlyList<LabelledText> Generate(int seed = 7)
    {
        var random = new Random(seed);
        var rows = new List<LabelledText>();
        foreach (var language in StarterTexts.Languages)
            foreach (var (category, templates) in language.Templates.Append(new("benign-chat", EverydayChat.Templates[language.Code])))
                for (var t = 0; t < templates.Length; t++)
                {
                    var labels = LabelsOf(category);
                    var seen = new HashSet<string>();
                    for (var attempt = 0; attempt < PerTemplate * 3 && seen.Count < PerTemplate; attempt++)
                    {
                        var text = Fill(templates[t], language.Slots, random);
                        if (labels.Count > 0 && random.NextDouble() < 0.15) text = Obfuscate(text, random);
                        if (seen.Add(text)) rows.Add(new LabelledText(text, labels, $"{language.Code}:{category}:{t}", language.Code));
                    }
                }
        return rows;
    }

    /// <summary>A sub-category is also its parent: "hate/threatening" is hate too.</summary>
    static IReadOnlyList<string> LabelsOf(string category) => category switch
    {
        "benign" or "benign-chat" or "hard-negative" => [],
        _ when category.Contains('/') => [category.Split('/')[0], category],
        _ => [category],
    };

    static string Fill(string template, IReadOnlyDictionary<string, string[]> slots, Random random)
    {
        var text = template;
        if (slots.TryGetValue("pre", out var pre)) text = $"{pre[random.Next(pre.Length)]} {text}".Trim();
        if (slots.TryGetValue("post", out var post)) text = $"{text} {post[random.Next(post.Length)]}".Trim();
        foreach (var (name, words) in slots)
        {
            var marker = "{" + name + "}";
            while (text.Contains(marker, StringComparison.Ordinal))
            {
                var at = text.IndexOf(marker, StringComparison.Ordinal);
                text = string.Concat(text.AsSpan(0, at), words[random.Next(words.Length)], text.AsSpan(at + marker.Length));
            }
        }
        return random.Next(4) switch
        {
            0 => text + "!",
            1 => char.ToUpperInvariant(text[0]) + text[1..] + ".",
            2 => text.ToUpperInvariant(),
            _ => text,
        };
    }

    /// <summary>The tricks people use to slip past filters, applied to one word: "h4te", "haaate", "h a t e", a zero-width space.</summary>
    static string Obfuscate(string text, Random random)
    {
        var words = text.Split(' ');
        var candidates = Enumerable.Range(0, words.Length).Where(i => words[i].Length >= 4 && words[i].All(char.IsLetter)).ToList();
        if (candidates.Count == 0) return text;
        var i = candidates[random.Next(candidates.Count)];
        var w = words[i];
        words[i] = random.Next(4) switch
        {
            0 => w.Replace('a', '4').Replace('e', '3').Replace('o', '0'),
            1 => w[..2] + new string(w[1], 3) + w[2..],
            2 => string.Join(' ', w.ToCharArray()),
            _ => w[..2] + "\u200B" + w[2..],
        };
        return string.Join(' ', words);
    }
}
