using LossLab.Losses.Core;
using LossLab.Losses.Embedding;
using LossLab.Losses.Ranking;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Losses.Embedding;

/// <summary>Golden values of the pair and triplet losses.</summary>
public sealed class EmbeddingLossTests
{
    [Fact]
    public void Hinge_embedding_gives_both_terms_to_labels_other_than_plus_minus_one_and_passes_the_tie()
    {
        var r = new HingeEmbeddingLoss(new() { Reduction = Reduction.None }).Evaluate(T.In(("input", T.D(0.5, 0.5, 0.5, 1)), ("target", T.D(1, -1, 0, -1))));
        T.Close([0.5, 0.5, 1.0, 0], r.Value);
        T.Close([1, -1, 0, -1], r.Gradient("input"));   // x = margin: clamp_min passes −1
    }

    [Fact]
    public void Margin_ranking_by_hand()
    {
        // y = 1, x₁ − x₂ = −0.5, margin 0.1: 0.6, grads −1/+1; y = −1 with x₁ − x₂ = −2: 0.
        var r = new MarginRankingLoss(new() { Margin = 0.1, Reduction = Reduction.None })
            .Evaluate(T.In(("input1", T.D(1, 0)), ("input2", T.D(1.5, 2)), ("target", T.D(1, -1))));
        T.Close([0.6, 0], r.Value, rel: 1e-15);
        T.Close([-1, 0], r.Gradient("input1"));
        T.Close([1, 0], r.Gradient("input2"));
    }

    [Fact]
    public void Cosine_embedding_by_hand_and_a_zero_vector_gives_cos_zero()
    {
        // Orthogonal pair, y = 1: 1 − 0 = 1; parallel pair, y = −1, margin 0.5: 1 − 0.5 = 0.5.
        var r = new CosineEmbeddingLoss(new() { Margin = 0.5, Reduction = Reduction.None }).Evaluate(T.In(
            ("input1", T.D2(new double[,] { { 1, 0 }, { 1, 1 }, { 0, 0 } })), ("input2", T.D2(new double[,] { { 0, 2 }, { 2, 2 }, { 3, 4 } })), ("target", T.D(1, -1, 1))));
        T.Close([1, 0.5, 1], r.Value, rel: 1e-12);
        Assert.All(T.Values(r.Gradient("input2")), g => Assert.True(double.IsFinite(g)));
    }

    [Fact]
    public void Triplet_by_hand_and_swap_uses_the_harder_negative()
    {
        // a = (0,0), p = (3,0), n = (0,1): 1 + 3 − 1 = 3 (eps = 0). With swap, d(p, n) = √10 > 1, so unchanged.
        var inputs = T.In(("anchor", T.D2(new double[,] { { 0, 0 } })), ("positive", T.D2(new double[,] { { 3, 0 } })), ("negative", T.D2(new double[,] { { 0, 1 } })));
        var r = new TripletMarginLoss(new() { Eps = 0 }).Evaluate(inputs);
        T.Close(3, r.Scalar, rel: 1e-15);
        T.Close([-1, 1], r.Gradient("anchor"), rel: 1e-15);     // ∇ₐ‖a − p‖ − ∇ₐ‖a − n‖ = (−1, 0) − (0, −1)
        // n = (4, 0) is closer to p than to a: swap picks d(p, n) = 1 over d(a, n) = 4.
        var swapped = inputs.Add("negative", T.D2(new double[,] { { 4, 0 } }));
        T.Close(1 + 3 - 4, new TripletMarginLoss(new() { Eps = 0, Margin = 1 }).Evaluate(swapped).Scalar, abs: 1e-15);
        T.Close(1 + 3 - 1, new TripletMarginLoss(new() { Eps = 0, Swap = true }).Evaluate(swapped).Scalar, rel: 1e-15);
    }

    [Fact]
    public void A_swap_tie_splits_the_gradient_in_half()
    {
        // d(a, n) = d(p, n) = 1: each negative pair carries half of the −1 (torch.minimum's rule).
        var inputs = T.In(("anchor", T.D(0, 0)), ("positive", T.D(2, 0)), ("negative", T.D(1, 0)));
        var r = new TripletMarginLoss(new() { Eps = 0, Swap = true }).Evaluate(inputs);
        T.Close([-1 + 0.5, 0], r.Gradient("anchor"), abs: 1e-15);
        T.Close([1 - 0.5, 0], r.Gradient("positive"), abs: 1e-15);
        T.Close([0, 0], r.Gradient("negative"), abs: 1e-15);
    }

    [Fact]
    public void A_user_distance_through_delegates_equals_the_built_in_one()
    {
        var custom = new DelegateDistance(
            (x, y) => x.Zip(y, (u, v) => (u - v) * (u - v)).Sum(),
            (x, y, g, gx, gy) => { for (int i = 0; i < x.Length; i++) { gx[i] = 2 * g * (x[i] - y[i]); gy[i] = -gx[i]; } });
        LossInputs inputs = T.In(("anchor", T.Shaped(LossSamples.Normal(new Random(1), 8), 2, 4)),
            ("positive", T.Shaped(LossSamples.Normal(new Random(2), 8), 2, 4)), ("negative", T.Shaped(LossSamples.Normal(new Random(3), 8), 2, 4)));
        var a = new TripletMarginWithDistanceLoss(new() { Distance = custom, Margin = 2 }).Evaluate(inputs);
        var b = new TripletMarginWithDistanceLoss(new() { Distance = new SquaredEuclideanDistance(), Margin = 2 }).Evaluate(inputs);
        T.Close(b.Scalar, a.Scalar, rel: 1e-15);
        T.Close(T.Values(b.Gradient("anchor")), a.Gradient("anchor"), rel: 1e-15);
        Assert.Throws<LossArgumentException>(() => new TripletMarginWithDistanceLoss(new() { Margin = 0 }));
    }
}
