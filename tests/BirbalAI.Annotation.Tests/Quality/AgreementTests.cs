using BirbalAI.Annotation.Quality;

namespace BirbalAI.Annotation.Tests.Quality;

/// <summary>Krippendorff's alpha (nominal) and pairwise agreement on cases computed by hand, with missing assignments.</summary>
public sealed class AgreementTests
{
    // Five tasks, "1" = the category given. t4 has one label only (a missing assignment): it adds nothing.
    //   coincidences: t1 [1,1] o11 += 2 · t2 [0,0] o00 += 2 · t3 [1,0] o10 += 1, o01 += 1 · t5 [1,1,0] o11 += 1, o10 += 1, o01 += 1
    //   o11 = 3, o00 = 2, o10 = o01 = 2; n1 = 5, n0 = 4, n = 9
    //   alpha = 1 − (n − 1) · (o10 + o01) / (2 · n1 · n0) = 1 − 8 · 4 / 40 = 0.2
    //   pairs: t1 1 of 1, t2 1 of 1, t3 0 of 1, t5 1 of 3 agree → 3 of 6 = 0.5
    static readonly IReadOnlyList<int>[] Units = [[1, 1], [0, 0], [1, 0], [1], [1, 1, 0]];

    [Fact]
    public void Alpha_of_the_hand_computed_case_with_a_missing_assignment_is_0_2() =>
        Assert.Equal(0.2, Agreement.Alpha(Units)!.Value, precision: 10);

    [Fact]
    public void Pairwise_agreement_of_the_hand_computed_case_is_one_half() =>
        Assert.Equal(0.5, Agreement.Pairwise(Units)!.Value, precision: 10);

    [Fact]
    public void A_task_with_one_label_changes_nothing() =>
        Assert.Equal(Agreement.Alpha(Units), Agreement.Alpha(Units.Where(u => u.Count > 1)));

    [Fact]
    public void Perfect_agreement_is_1_and_no_variation_is_undefined()
    {
        Assert.Equal(1.0, Agreement.Alpha<int>([[1, 1], [0, 0]]));
        Assert.Null(Agreement.Alpha<int>([[1, 1], [1, 1]]));
        Assert.Null(Agreement.Alpha<int>([[1], [0]]));
        Assert.Null(Agreement.Pairwise<int>([[1]]));
    }

    [Fact]
    public void Systematic_disagreement_is_below_zero()
    {
        // [1,0] twice: o10 = o01 = 2, n1 = n0 = 2, n = 4 → alpha = 1 − 3 · 4 / 8 = −0.5
        Assert.Equal(-0.5, Agreement.Alpha<int>([[1, 0], [1, 0]])!.Value, precision: 10);
    }

    [Fact]
    public void Per_category_treats_each_category_as_given_or_not()
    {
        IReadOnlyList<IReadOnlyList<IReadOnlyCollection<string>>> tasks =
        [
            [["hate"], ["hate"]],
            [[], []],
            [["hate", "violence"], []],
            [["violence"]],
            [["hate"], ["hate", "violence"], []],
        ];

        var hate = Agreement.PerCategory(tasks, ["hate"]).Single();

        Assert.Equal(4, hate.Tasks);
        Assert.Equal(0.2, hate.Alpha!.Value, precision: 10);   // the same units as the hand-computed case
        Assert.Equal(0.5, hate.Pairwise!.Value, precision: 10);
    }
}
