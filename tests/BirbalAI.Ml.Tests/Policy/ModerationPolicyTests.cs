using BirbalAI.Contracts.Ml;
using BirbalAI.Ml.Policy;

namespace BirbalAI.Ml.Tests.Policy;

public sealed class ModerationPolicyTests
{
    static readonly string[] Known = ["hate", "violence"];

    [Theory]
    [InlineData(0.10f, ModerationAction.Approve)]
    [InlineData(0.50f, ModerationAction.Review)]
    [InlineData(0.89f, ModerationAction.Review)]
    [InlineData(0.90f, ModerationAction.Reject)]
    public void A_score_is_approved_below_review_held_from_review_and_rejected_from_reject(float score, ModerationAction expected) =>
        Assert.Equal(expected, ModerationPolicy.Decide(score, new Thresholds(0.5f, 0.9f)));

    [Fact]
    public void A_threshold_of_one_turns_its_action_off_even_for_a_score_of_one()
    {
        Assert.Equal(ModerationAction.Review, ModerationPolicy.Decide(1f, new Thresholds(0.5f, 1f)));
        Assert.Equal(ModerationAction.Approve, ModerationPolicy.Decide(1f, new Thresholds(1f, 1f)));
    }

    [Fact]
    public void A_valid_policy_names_every_category_with_review_at_most_reject()
    {
        Assert.Empty(ModerationPolicy.Validate(new Dictionary<string, Thresholds>
        {
            ["hate"] = new(0.4f, 0.4f),
            ["violence"] = new(0f, 1f),
        }, Known));
    }

    [Fact]
    public void Every_broken_rule_is_named()
    {
        var errors = ModerationPolicy.Validate(new Dictionary<string, Thresholds>
        {
            ["hate"] = new(0.9f, 0.5f),
            ["spam"] = new(0.1f, 0.2f),
        }, Known);

        Assert.Contains(errors, e => e.StartsWith("hate: need 0 ≤ review ≤ reject ≤ 1", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("spam: not a category", StringComparison.Ordinal));
        Assert.Contains("violence: missing", errors);
        Assert.Equal(3, errors.Count);
    }

    [Theory]
    [InlineData(-0.1f, 0.5f)]
    [InlineData(0.5f, 1.1f)]
    [InlineData(float.NaN, 0.5f)]
    public void Thresholds_outside_zero_to_one_are_refused(float review, float reject)
    {
        var errors = ModerationPolicy.Validate(new Dictionary<string, Thresholds> { ["hate"] = new(review, reject), ["violence"] = new(0.5f, 0.9f) }, Known);

        Assert.Single(errors);
    }

    [Fact]
    public void A_category_the_policy_does_not_name_is_held_from_half_and_never_rejected_without_a_person()
    {
        var policy = new ModerationPolicy(1, new Dictionary<string, Thresholds>(), null, DateTime.UtcNow, null);

        Assert.Equal(ModerationAction.Review, ModerationPolicy.Decide(1f, policy.For("new-category")));
    }
}
