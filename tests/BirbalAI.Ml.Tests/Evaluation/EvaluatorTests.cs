using BirbalAI.Ml.Evaluation;

namespace BirbalAI.Ml.Tests.Evaluation;

public sealed class EvaluatorTests
{
    // Category 0: positives at scores .9, .8, .3; negatives at .7, .2, .1.
    static readonly float[][] Scores = [[0.9f], [0.8f], [0.7f], [0.3f], [0.2f], [0.1f]];
    static readonly bool[][] Labels = [[true], [true], [false], [true], [false], [false]];

    [Fact]
    public void Precision_recall_F1_and_PR_AUC_at_a_threshold()
    {
        var report = Evaluator.Evaluate(["c"], Scores, Labels, [0.5f], ["en", "en", "en", "de", "de", "de"], targetPrecision: 0.75);
        var c = report.Categories[0];

        Assert.Equal((3, 2.0 / 3, 2.0 / 3), (c.Support, c.Precision, c.Recall));
        Assert.Equal(2.0 / 3, c.F1, 10);
        Assert.Equal((1 + 1 + 3.0 / 4) / 3, c.PrAuc, 10);          // precision at each positive: 1/1, 2/2, 3/4
        Assert.Equal(0.3, c.ThresholdForTargetPrecision!.Value, 5); // 3 of 4 flagged are right at 0.3
        Assert.Equal(2.0 / 3, report.MacroF1, 10);
        Assert.Equal(0.8, report.PerLanguageMacroF1["en"], 10);      // en: tp 2, fp 1
        Assert.Equal(0.0, report.PerLanguageMacroF1["de"], 10);      // de: the one positive is missed
    }

    [Fact]
    public void Tuned_thresholds_maximise_F1_on_the_given_scores()
    {
        var thresholds = Evaluator.TuneThresholds(1, Scores, Labels);

        // Flagging the top four (≥ 0.3) catches every positive with one false alarm: F1 = 6/7, the best.
        Assert.InRange(thresholds[0], 0.2f, 0.3f);
        var report = Evaluator.Evaluate(["c"], Scores, Labels, thresholds);
        Assert.Equal(6.0 / 7, report.Categories[0].F1, 10);
    }

    [Fact]
    public void A_category_nobody_has_and_nothing_flags_stays_out_of_the_macro_average()
    {
        float[][] scores = [[0.9f, 0.1f], [0.1f, 0.1f]];
        bool[][] labels = [[true, false], [false, false]];

        var report = Evaluator.Evaluate(["a", "b"], scores, labels, [0.5f, 0.5f]);

        Assert.Equal(1.0, report.MacroF1);
        Assert.Equal(1.0, report.MicroF1);
    }
}
