using LossLab.Losses.Core;
using LossLab.Numerics;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Losses;

/// <summary>
/// Optax's <c>axis</c> on its row losses: reducing over axis 1 of (A, B, C) inputs is the last-axis loss on the inputs
/// with that axis moved last, (A, C, B), with the gradient moved back; a list of axes is the loss on them flattened.
/// The last-axis path is checked against PyTorch references in torch_diff.
/// </summary>
public sealed class OptaxAxisTests
{
    public static TheoryData<string, string, string> RowLosses => new()
    {
        { "optax.softmax_cross_entropy", "logits", "labels" },
        { "poly_loss_cross_entropy", "logits", "labels" },
        { "optax.kl_divergence", "log_predictions", "targets" },
        { "optax.kl_divergence_with_log_targets", "log_predictions", "log_targets" },
        { "convex_kl_divergence", "log_predictions", "targets" },
        { "cosine_similarity", "predictions", "targets" },
        { "cosine_distance", "predictions", "targets" },
    };

    /// <summary>(A, B, C) → (A, C, B): element [a, b, c] moves to [a, c, b].</summary>
    internal static double[] MoveMiddleLast(double[] v, int a, int b, int c)
    {
        var r = new double[v.Length];
        for (int i = 0; i < a; i++)
            for (int j = 0; j < b; j++)
                for (int k = 0; k < c; k++) r[(i * c + k) * b + j] = v[(i * b + j) * c + k];
        return r;
    }

    private static (double[] X, double[] Y) Sample(string loss, Random r, int n)
    {
        double[] x = LossSamples.Normal(r, n, 1.5), y = [.. Enumerable.Range(0, n).Select(_ => r.NextDouble() + 0.05)];
        if (loss.Contains("kl_divergence", StringComparison.Ordinal)) x = [.. x.Select(v => -Math.Abs(v) - 0.1)];   // log-probabilities
        if (loss.EndsWith("log_targets", StringComparison.Ordinal)) y = [.. y.Select(v => Math.Log(v))];
        return (x, y);
    }

    [Theory]
    [MemberData(nameof(RowLosses))]
    public void A_middle_axis_is_the_last_axis_of_the_moved_inputs(string loss, string x, string y)
    {
        const int a = 2, b = 3, c = 4;
        var r = new Random(loss.Length);
        var (xv, yv) = Sample(loss, r, a * b * c);
        double[] where = [.. Enumerable.Range(0, a * b * c).Select(i => i % 5 == 2 ? 0.0 : 1.0)];
        foreach (bool masked in new[] { false, true })
        {
            var options = T.Opt(("axis", T.I(1)), ("reduction", "none"));
            var lastOptions = T.Opt(("reduction", "none"));
            if (masked)
            {
                options["where"] = T.Shaped(where, a, b, c);
                lastOptions["where"] = T.Shaped(MoveMiddleLast(where, a, b, c), a, c, b);
            }
            LossResult over = LossRegistry.Default.Create(loss, options).Evaluate(T.In((x, T.Shaped(xv, a, b, c)), (y, T.Shaped(yv, a, b, c))));
            LossResult last = LossRegistry.Default.Create(loss, lastOptions)
                .Evaluate(T.In((x, T.Shaped(MoveMiddleLast(xv, a, b, c), a, c, b)), (y, T.Shaped(MoveMiddleLast(yv, a, b, c), a, c, b))));
            Assert.Equal(new Shape(a, c), over.Value.Shape);
            T.Close(T.Values(last.Value), over.Value, 1e-15, 1e-16);
            foreach (var (name, g) in over.Gradients)
            {
                Assert.Equal(new Shape(a, b, c), g.Shape);
                // Moving the gradient's axis 1 last gives the last-axis loss's gradient.
                T.Close(T.Values(last.Gradient(name)), T.Shaped(MoveMiddleLast(T.Values(g), a, b, c), a, c, b), 1e-15, 1e-16);
            }
        }
    }

    [Theory]
    [MemberData(nameof(RowLosses))]
    public void Several_axes_are_flattened_and_the_last_axis_is_the_default(string loss, string x, string y)
    {
        var r = new Random(3);
        var (xv, yv) = Sample(loss, r, 2 * 3 * 4);
        LossInputs full = T.In((x, T.Shaped(xv, 2, 3, 4)), (y, T.Shaped(yv, 2, 3, 4)));
        LossResult both = LossRegistry.Default.Create(loss, T.Opt(("axis", T.I(1, -1)), ("reduction", "sum"))).Evaluate(full);
        LossResult flat = LossRegistry.Default.Create(loss, T.Opt(("reduction", "sum"))).Evaluate(T.In((x, T.Shaped(xv, 2, 12)), (y, T.Shaped(yv, 2, 12))));
        T.Close(flat.Value.GetDouble(0), both.Value.GetDouble(0), 1e-15);
        T.Close(T.Values(flat.Gradient(x)), both.Gradient(x), 1e-15, 1e-16);
        LossResult explicitLast = LossRegistry.Default.Create(loss, T.Opt(("axis", T.I(-1)))).Evaluate(full);
        LossResult byDefault = LossRegistry.Default.Create(loss).Evaluate(full);
        Assert.Equal(T.Values(byDefault.Value), T.Values(explicitLast.Value));
    }

    [Fact]
    public void Bad_axes_are_shape_errors_naming_the_loss()
    {
        LossInputs inputs = T.In(("logits", T.Shaped(new double[6], 2, 3)), ("labels", T.Shaped(new double[6], 2, 3)));
        var range = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("optax.softmax_cross_entropy", T.Opt(("axis", T.I(2)))).Evaluate(inputs));
        Assert.Equal(LossErrorCode.InvalidShape, range.Code);
        Assert.Contains("OptaxSoftmaxCrossEntropy: axis 2 is out of range for shape (2, 3)", range.Message);
        var twice = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("cosine_distance", T.Opt(("axis", T.I(1, -1))))
            .Evaluate(T.In(("predictions", T.Shaped(new double[6], 2, 3)), ("targets", T.Shaped(new double[6], 2, 3)))));
        Assert.Contains("axis -1 is named twice", twice.Message);
        var mask = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("optax.kl_divergence", T.Opt(("axis", T.I(0)), ("where", T.Shaped(new double[3], 3))))
            .Evaluate(T.In(("log_predictions", T.Shaped(new double[6], 2, 3)), ("targets", T.Shaped(new double[6], 2, 3)))));
        Assert.Contains("option 'where' has shape (3,)", mask.Message);
    }
}
