using System.Globalization;
using System.Net;
using System.Text;
using BirbalAI.Ml.Evaluation;

namespace BirbalAI.Ml.Registry;

/// <summary>
/// The version page's plots, drawn on the server as plain SVG (no charting library, nothing to load in the browser): PR curves
/// per category, score histograms of positives and negatives, the reliability diagram, macro-F1 per language.
/// </summary>
static class Plots
{
    const int Width = 420, Height = 260, Left = 40, Top = 15, Right = 130, Bottom = 30;
    static readonly string[] Colours = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22", "#393b79", "#637939", "#843c39"];

    static string F(double v) => v.ToString("0.##", CultureInfo.InvariantCulture);
    static string E(string s) => WebUtility.HtmlEncode(s);
    static double X(double v) => Left + v * (Width - Left - Right);
    static double Y(double v) => Height - Bottom - v * (Height - Top - Bottom);

    static StringBuilder Open(string id, string label, string xLabel, string yLabel)
    {
        var svg = new StringBuilder();
        svg.Append($"<svg id=\"{id}\" role=\"img\" aria-label=\"{E(label)}\" viewBox=\"0 0 {Width} {Height}\" width=\"{Width}\" height=\"{Height}\" xmlns=\"http://www.w3.org/2000/svg\" font-size=\"10\">");
        svg.Append($"<title>{E(label)}</title>");
        svg.Append($"<rect x=\"{Left}\" y=\"{Top}\" width=\"{Width - Left - Right}\" height=\"{Height - Top - Bottom}\" fill=\"none\" stroke=\"#888\"/>");
        foreach (var t in new[] { 0.0, 0.5, 1.0 })
        {
            svg.Append($"<text x=\"{F(X(t))}\" y=\"{Height - Bottom + 12}\" text-anchor=\"middle\">{F(t)}</text>");
            svg.Append($"<text x=\"{Left - 4}\" y=\"{F(Y(t) + 3)}\" text-anchor=\"end\">{F(t)}</text>");
        }
        svg.Append($"<text x=\"{F(X(0.5))}\" y=\"{Height - 4}\" text-anchor=\"middle\">{E(xLabel)}</text>");
        svg.Append($"<text x=\"10\" y=\"{F(Y(0.5))}\" transform=\"rotate(-90 10 {F(Y(0.5))})\" text-anchor=\"middle\">{E(yLabel)}</text>");
        return svg;
    }

    static void Legend(StringBuilder svg, int index, string name)
    {
        var y = Top + 4 + index * 14;
        svg.Append($"<rect x=\"{Width - Right + 8}\" y=\"{y}\" width=\"10\" height=\"10\" fill=\"{Colours[index % Colours.Length]}\"/>");
        svg.Append($"<text x=\"{Width - Right + 22}\" y=\"{y + 9}\">{E(name)}</text>");
    }

    /// <summary>Precision against recall, one line per category with positives in the test split.</summary>
    public static string PrCurves(TestReport report)
    {
        var svg = Open("pr-curves", "Precision-recall curves per category", "recall", "precision");
        var shown = report.Categories.Where(c => c.PrCurve.Count > 0).ToList();
        for (var i = 0; i < shown.Count; i++)
        {
            var c = shown[i];
            var points = string.Join(" ", new[] { new CurvePoint(1, 1, 0) }.Concat(c.PrCurve).Select(p => $"{F(X(p.Recall))},{F(Y(p.Precision))}"));
            svg.Append($"<polyline class=\"curve\" data-category=\"{E(c.Category)}\" fill=\"none\" stroke=\"{Colours[i % Colours.Length]}\" stroke-width=\"1.5\" points=\"{points}\"/>");
            Legend(svg, i, $"{c.Category} ({F(c.PrAuc)})");
        }
        return svg.Append("</svg>").ToString();
    }

    /// <summary>Scores of the category's positives (red) and negatives (blue) in <see cref="TestReport.HistogramBins"/> bins, each scaled to its own largest bin.</summary>
    public static string Histogram(CategoryDetail c)
    {
        var svg = Open($"histogram-{c.Category.Replace('/', '-')}", $"Scores of positives and negatives for {c.Category}", "score", "share of the largest bin");
        var bins = c.PositiveHistogram.Length;
        var width = (Width - Left - Right) / (double)bins;
        double maxPos = Math.Max(1, c.PositiveHistogram.Max()), maxNeg = Math.Max(1, c.NegativeHistogram.Max());
        for (var b = 0; b < bins; b++)
        {
            var x = Left + b * width;
            var hn = c.NegativeHistogram[b] / maxNeg * (Height - Top - Bottom);
            var hp = c.PositiveHistogram[b] / maxPos * (Height - Top - Bottom);
            svg.Append($"<rect class=\"negative\" x=\"{F(x + 1)}\" y=\"{F(Height - Bottom - hn)}\" width=\"{F(width / 2 - 1)}\" height=\"{F(hn)}\" fill=\"#1f77b4\"><title>{c.NegativeHistogram[b]} negatives</title></rect>");
            svg.Append($"<rect class=\"positive\" x=\"{F(x + width / 2)}\" y=\"{F(Height - Bottom - hp)}\" width=\"{F(width / 2 - 1)}\" height=\"{F(hp)}\" fill=\"#d62728\"><title>{c.PositiveHistogram[b]} positives</title></rect>");
        }
        svg.Append($"<line x1=\"{F(X(c.Threshold))}\" x2=\"{F(X(c.Threshold))}\" y1=\"{Top}\" y2=\"{Height - Bottom}\" stroke=\"#000\" stroke-dasharray=\"3,2\"/>");
        Legend(svg, 1, "positives");
        svg.Append($"<rect x=\"{Width - Right + 8}\" y=\"{Top + 4}\" width=\"10\" height=\"10\" fill=\"#1f77b4\"/><text x=\"{Width - Right + 22}\" y=\"{Top + 13}\">negatives</text>");
        svg.Append($"<text x=\"{Width - Right + 8}\" y=\"{Top + 45}\">- - threshold {F(c.Threshold)}</text>");
        return svg.Append("</svg>").ToString();
    }

    /// <summary>Share of positives against the mean score in each bin, every category's bins pooled; the diagonal is perfect calibration.</summary>
    public static string Reliability(TestReport report)
    {
        var svg = Open("reliability", "Reliability diagram (all categories pooled)", "mean score", "share of positives");
        svg.Append($"<line x1=\"{F(X(0))}\" y1=\"{F(Y(0))}\" x2=\"{F(X(1))}\" y2=\"{F(Y(1))}\" stroke=\"#aaa\" stroke-dasharray=\"4,3\"/>");
        var bins = report.Categories.SelectMany(c => c.Reliability).GroupBy(b => b.Lower)
            .Select(g => (Count: g.Sum(b => b.Count), Mean: g.Sum(b => b.MeanScore * b.Count), Positive: g.Sum(b => b.PositiveShare * b.Count)))
            .Where(b => b.Count > 0).Select(b => (b.Count, Mean: b.Mean / b.Count, Share: b.Positive / b.Count)).OrderBy(b => b.Mean).ToList();
        svg.Append($"<polyline fill=\"none\" stroke=\"{Colours[0]}\" stroke-width=\"1.5\" points=\"{string.Join(" ", bins.Select(b => $"{F(X(b.Mean))},{F(Y(b.Share))}"))}\"/>");
        foreach (var b in bins)
            svg.Append($"<circle class=\"bin\" cx=\"{F(X(b.Mean))}\" cy=\"{F(Y(b.Share))}\" r=\"3\" fill=\"{Colours[0]}\"><title>{b.Count} scores, mean {F(b.Mean)}, {F(b.Share)} positive</title></circle>");
        Legend(svg, 0, "observed");
        return svg.Append("</svg>").ToString();
    }

    /// <summary>Macro-F1 per language on the test split.</summary>
    public static string LanguageF1(TestReport report)
    {
        var svg = Open("language-f1", "Macro-F1 per language", "language", "macro-F1");
        var languages = report.Languages;
        var width = (Width - Left - Right) / (double)Math.Max(1, languages.Count);
        for (var i = 0; i < languages.Count; i++)
        {
            var l = languages[i];
            var h = l.MacroF1 * (Height - Top - Bottom);
            var x = Left + i * width;
            svg.Append($"<rect class=\"bar\" data-language=\"{E(l.Language)}\" x=\"{F(x + width * 0.15)}\" y=\"{F(Height - Bottom - h)}\" width=\"{F(width * 0.7)}\" height=\"{F(h)}\" fill=\"{Colours[2]}\"><title>{E(l.Language)}: {F(l.MacroF1)} ({l.Examples} examples)</title></rect>");
            svg.Append($"<text x=\"{F(x + width / 2)}\" y=\"{F(Height - Bottom - h - 3)}\" text-anchor=\"middle\">{E(l.Language)}</text>");
        }
        return svg.Append("</svg>").ToString();
    }
}
