using LossLab.Losses.Classification;
using LossLab.Losses.Core;
using LossLab.Numerics;
using LossLab.Tests.TestKit;
using Xunit;

namespace LossLab.Tests.Losses.Classification;

/// <summary>
/// PyTorch's adaptive softmax: golden values from torch.nn.AdaptiveLogSoftmaxWithLoss (PyTorch 1.13, float64, the
/// weights below loaded with load_state_dict), its log_prob and predict, and the structure checks. The random-case
/// comparison with torch is in torch_diff.
/// </summary>
public sealed class AdaptiveLogSoftmaxWithLossTests
{
    /// <summary>in_features 4, n_classes 6, cutoffs [2, 4], div_value 2, head_bias: projections of 2 and 1 rows.</summary>
    private static LossInputs Golden() => T.In(
        ("input", T.D2(new double[,] { { 1, -2, 0.5, 0.25 }, { 0, 1, -1, 2 }, { 3, 0.5, 0.25, -1 }, { -1, -1, 2, 0.5 } })),
        ("target", T.I(1, 3, 4, 5)),
        ("head.weight", T.D2(new double[,] { { 0.5, -0.25, 1, 0 }, { -1, 0.5, 0.25, 2 }, { 0.75, 0.75, -0.5, 0.125 }, { 0, -1.5, 0.5, 1 } })),
        ("head.bias", T.D(0.1, -0.2, 0.3, 0)),
        ("tail.0.0.weight", T.D2(new double[,] { { 1, 0.5, -0.5, 0.25 }, { -0.75, 1.25, 0, 0.5 } })),
        ("tail.0.1.weight", T.D2(new double[,] { { 0.5, -1 }, { 1.5, 0.25 } })),
        ("tail.1.0.weight", T.D2(new double[,] { { 0.25, -0.5, 1, -1 } })),
        ("tail.1.1.weight", T.D2(new double[,] { { 2 }, { -0.5 } })));

    private static readonly Dictionary<string, object?> GoldenOptions = T.Opt(("cutoffs", T.D(2, 4)), ("n_classes", 6L), ("div_value", 2.0));

    private static AdaptiveLogSoftmaxWithLoss Loss(Dictionary<string, object?>? options = null)
        => (AdaptiveLogSoftmaxWithLoss)LossRegistry.Default.Create("adaptive_log_softmax_with_loss", options ?? GoldenOptions);

    [Fact]
    public void Matches_torch_output_loss_and_gradients()
    {
        LossResult mean = Loss().Evaluate(Golden());
        T.Close(4.2847391838637039, mean.Scalar, rel: 1e-14);
        T.Close([0.26710439458620372, -0.44999663614767582, 0.074826129036192152, -0.28347911249332025],
            TensorData.FromArray(T.Values(mean.Gradient("input"))[..4], 4), rel: 1e-13);
        T.Close([-0.64053956356648234, -0.62111510910837942, 1.2325179909877073, 0.31638489089162058], mean.Gradient("tail.1.0.weight"), rel: 1e-13);
        // torch's output is the per-row log-probability: reduction none is its negation.
        LossResult none = Loss(new(GoldenOptions) { ["reduction"] = "none" }).Evaluate(Golden());
        T.Close([5.2331068096061797, 2.38405692021629, 4.6495738866898746, 4.8722191189424704], none.Value, rel: 1e-14);
    }

    [Fact]
    public void Cutoffs_and_n_classes_default_to_the_weights_shapes()
    {
        LossResult given = Loss().Evaluate(Golden());
        LossResult inferred = Loss(T.Opt(("div_value", 2.0))).Evaluate(Golden());
        Assert.Equal(given.Scalar, inferred.Scalar);
        foreach (var (name, g) in given.Gradients) Assert.Equal(T.Values(g), T.Values(inferred.Gradient(name)));
    }

    [Fact]
    public void Log_probabilities_and_predictions_are_torchs()
    {
        LossInputs inputs = Golden();
        var withoutTarget = new LossInputs(inputs.Tensors.Where(kv => kv.Key != "target"));
        TensorData lp = Loss().LogProbabilities(withoutTarget);
        Assert.Equal(new Shape(4, 6), lp.Shape);
        T.Close([-1.2870643164137006, -7.8995643164137013, -1.1455560542973582, -0.92680605429735818, -4.6495738866898746, -9.0245738866898755],
            TensorData.FromArray(T.Values(lp)[12..18], 6), rel: 1e-14);
        Assert.Equal([4L, 1, 3, 4], Loss().Predict(withoutTarget));
        // Every row is a distribution, and the loss (none) is −log p at the targets.
        double[] v = T.Values(lp), none = T.Values(Loss(new(GoldenOptions) { ["reduction"] = "none" }).Evaluate(inputs).Value);
        long[] y = [1, 3, 4, 5];
        for (int r = 0; r < 4; r++)
        {
            T.Close(1, v[(r * 6)..(r * 6 + 6)].Sum(Math.Exp), rel: 1e-14);
            T.Close(none[r], -v[r * 6 + (int)y[r]], rel: 1e-14);
        }
        // An unbatched input gives one row, (n_classes).
        var single = new LossInputs(withoutTarget.Tensors.Where(kv => kv.Key != "input")).Add("input", T.D(3, 0.5, 0.25, -1));
        TensorData one = Loss().LogProbabilities(single);
        Assert.Equal(new Shape(6), one.Shape);
        T.Close(T.Values(lp)[12..18], one, rel: 1e-15);
    }

    [Fact]
    public void An_unbatched_input_takes_a_0d_target_and_gives_a_0d_value()
    {
        LossInputs inputs = Golden();
        var single = new LossInputs(inputs.Tensors.Where(kv => kv.Key is not ("input" or "target")))
            .Add("input", T.D(3, 0.5, 0.25, -1)).Add("target", T.Shaped(new long[] { 4 }));
        LossResult r = Loss(new(GoldenOptions) { ["reduction"] = "none" }).Evaluate(single);
        Assert.Equal(Shape.Scalar, r.Value.Shape);
        T.Close(4.6495738866898746, r.Scalar, rel: 1e-14);
        Assert.Equal(new Shape(4), r.Gradient("input").Shape);
        var e = Assert.Throws<LossArgumentException>(() => Loss().Evaluate(new LossInputs(single.Tensors).Add("target", T.I(4))));
        Assert.Contains("one class index, shape ()", e.Message);
    }

    [Theory]
    [InlineData("cutoffs", "[2, 5]", "cutoffs[1] = 5, but cluster 0 ('tail.0.1.weight', 2 rows) ends at 4")]
    [InlineData("cutoffs", "[3, 4]", "cutoffs[0] = 3 is the shortlist, but 'head.weight' (4, 4) has 2 shortlist rows")]
    [InlineData("cutoffs", "[2]", "cutoffs [2] make 1 tail clusters but the inputs hold 2")]
    [InlineData("n_classes", "7", "n_classes is 7, but the last cluster ('tail.1.1.weight') ends at 6")]
    [InlineData("div_value", "4", "'tail.0.0.weight' has shape (2, 4); with div_value 4 it is (1, 4)")]
    public void A_structure_the_weights_do_not_have_is_a_shape_error(string option, string value, string message)
    {
        var options = new Dictionary<string, object?>(GoldenOptions)
        {
            [option] = option == "cutoffs" ? T.D([.. value.Trim('[', ']').Split(", ").Select(double.Parse)]) : option == "n_classes" ? long.Parse(value) : double.Parse(value),
        };
        var e = Assert.Throws<LossArgumentException>(() => Loss(options).Evaluate(Golden()));
        Assert.Contains(message, e.Message);
    }

    [Theory]
    [InlineData("[0, 4]")]
    [InlineData("[4, 2]")]
    [InlineData("[2, 2]")]
    [InlineData("[2, 6]")]
    public void Cutoffs_must_be_increasing_positive_and_below_n_classes(string cutoffs)
    {
        var e = Assert.Throws<LossArgumentException>(() => Loss(new(GoldenOptions) { ["cutoffs"] = T.D([.. cutoffs.Trim('[', ']').Split(", ").Select(double.Parse)]) }));
        Assert.Equal(LossErrorCode.InvalidValue, e.Code);
        Assert.Contains("unique, positive integers sorted in an increasing order", e.Message);
        Assert.Throws<LossArgumentException>(() => Loss(T.Opt(("cutoffs", T.D(2.5)))));
        Assert.Throws<LossArgumentException>(() => Loss(T.Opt(("div_value", 0.0))));
    }

    [Fact]
    public void Targets_and_tail_inputs_are_checked_by_name()
    {
        LossInputs inputs = Golden();
        var e = Assert.Throws<LossArgumentException>(() => Loss().Evaluate(new LossInputs(inputs.Tensors).Add("target", T.I(1, 6, 0, 0))));
        Assert.Contains("target 6 at position 1 is out of range: class indices must be in [0, 5]", e.Message);
        e = Assert.Throws<LossArgumentException>(() => Loss().Evaluate(new LossInputs(inputs.Tensors.Where(kv => kv.Key != "tail.1.0.weight"))));
        Assert.Contains("cluster 1 needs both 'tail.1.0.weight' (projection) and 'tail.1.1.weight' (output); 'tail.1.0.weight' is missing", e.Message);
        e = Assert.Throws<LossArgumentException>(() => Loss(T.Opt(("div_value", 2.0))).Evaluate(
            new LossInputs(inputs.Tensors.Where(kv => !kv.Key.StartsWith("tail.1", StringComparison.Ordinal)))
                .Add("tail.2.0.weight", T.D2(new double[,] { { 1, 1, 1, 1 } })).Add("tail.2.1.weight", T.D2(new double[,] { { 1 } }))));
        Assert.Contains("'tail.2.0.weight' is given but cluster 1 is not", e.Message);
        e = Assert.Throws<LossArgumentException>(() => Loss().Evaluate(new LossInputs(inputs.Tensors).Add("tail.8.0.weight", T.D(1))));
        Assert.Contains("unknown input 'tail.8.0.weight'", e.Message);
    }

    [Theory]
    [InlineData(16, 4, 4)]
    [InlineData(16, 16, 1)]
    [InlineData(8, 16, 0)]
    [InlineData(1, 0.1, 9)]    // 1 // 0.1 is 9 in Python (0.1 is a little above 1/10); ⌊1/0.1⌋ in double is 10
    [InlineData(7, 2.5, 2)]
    [InlineData(512, 64, 8)]
    public void Hidden_sizes_use_pythons_floor_division(double a, double b, double expected)
        => Assert.Equal(expected, AdaptiveLogSoftmaxWithLoss.PythonFloorDivide(a, b));

    /// <summary>
    /// The log-probabilities come as products a chunk of rows at a time: 150 rows against a 5000-class cluster (chunks of
    /// 64, 64, 22) and a small one; every row is a distribution and −log p at each target is the loss (reduction none).
    /// </summary>
    [Fact]
    public void Log_probabilities_over_several_chunks_agree_with_the_loss()
    {
        const int n = 150, d = 16, shortlist = 7, c0 = 5000, c1 = 30;
        var r = new Random(47);
        long[] targets = [.. Enumerable.Range(0, n).Select(_ => (long)r.Next(shortlist + c0 + c1))];
        LossInputs inputs = T.In(("input", T.Shaped(LossSamples.Normal(r, n * d), n, d)), ("target", T.Shaped(targets, n)),
            ("head.weight", T.Shaped(LossSamples.Normal(r, (shortlist + 2) * d), shortlist + 2, d)),
            ("head.bias", T.Shaped(LossSamples.Normal(r, shortlist + 2), shortlist + 2)),
            ("tail.0.0.weight", T.Shaped(LossSamples.Normal(r, 4 * d), 4, d)), ("tail.0.1.weight", T.Shaped(LossSamples.Normal(r, c0 * 4), c0, 4)),
            ("tail.1.0.weight", T.Shaped(LossSamples.Normal(r, 1 * d), 1, d)), ("tail.1.1.weight", T.Shaped(LossSamples.Normal(r, c1), c1, 1)));
        var loss = (LossLab.Losses.Classification.AdaptiveLogSoftmaxWithLoss)LossRegistry.Default.Create("adaptive_log_softmax_with_loss", T.Opt(("reduction", "none")));
        double[] lp = T.Values(loss.LogProbabilities(new LossInputs(inputs.Tensors.Where(kv => kv.Key != "target"))));
        double[] none = T.Values(loss.Evaluate(inputs).Value);
        int classes = shortlist + c0 + c1;
        for (int row = 0; row < n; row++)
        {
            T.Close(1, lp[(row * classes)..((row + 1) * classes)].Sum(Math.Exp), rel: 1e-13);
            T.Close(none[row], -lp[row * classes + (int)targets[row]], rel: 1e-13);
        }
    }
}
