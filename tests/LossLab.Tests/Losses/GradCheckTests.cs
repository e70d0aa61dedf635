using LossLab.Losses.Core;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Losses;

public sealed class GradCheckTests
{
    /// <summary>A loss whose "gradient" is deliberately wrong by a factor of 1.01 on one input.</summary>
    internal sealed class WrongGradient : Loss
    {
        public override LossDescriptor Descriptor { get; } = new()
        {
            Name = "DeliberatelyWrongForTests",
            Family = LossFamily.Custom,
            Task = LossTask.Regression,
            Inputs = [new("input", InputKind.Floating, true, "x")],
            Formula = "ℓ = Σx³",
            Reference = "test",
            Stability = "n/a",
            Factory = _ => new WrongGradient(),
            Sample = (r, s) => new LossInputs().Add("input", Samples.Normal(r, Samples.Or(s, 5))),
        };

        protected override LossResult Compute<TT>(LossInputs inputs, bool computeGradients)
        {
            double[] x = inputs["input"].ToArray<double>();
            double value = x.Sum(v => v * v * v);
            var grad = x.Select((v, i) => 3 * v * v * (i == 2 ? 1.01 : 1)).ToArray();
            return new LossResult(TensorData.Scalar(value), new Dictionary<string, TensorData> { ["input"] = TensorData.FromArray(grad, x.Length) });
        }
    }

    [Fact]
    public void Catalog_losses_pass_and_a_wrong_gradient_is_caught_at_its_element()
    {
        LossDescriptor ce = LossRegistry.Default.Get("cross_entropy");
        GradCheckReport ok = GradCheck.Run(ce.Create(T.Opt(("label_smoothing", 0.2))), ce.Sample!(new Random(1), Shape.Scalar));
        Assert.True(ok.Passed);
        Assert.Equal(20, ok.Checked);
        GradCheckReport bad = GradCheck.Run(new WrongGradient(), new LossInputs().Add("input", T.D(1, -2, 3, 0.5, 2)));
        Assert.False(bad.Passed);
        Assert.Equal(1, bad.Failed);
        Assert.Equal(2, bad.Worst[0].Index);
        T.Close(27, bad.Worst[0].Numeric, rel: 1e-8);
        T.Close(27 * 1.01, bad.Worst[0].Analytic, rel: 1e-12);
    }

    [Fact]
    public void Every_registered_loss_has_a_sampler_and_passes_gradcheck_on_it()
    {
        foreach (LossDescriptor d in LossRegistry.Default.Entries)
        {
            Assert.NotNull(d.Sample);
            for (int seed = 0; seed < 3; seed++)
            {
                GradCheckReport r = GradCheck.Run(d.Create(d.TrueGradientOptions), d.Sample!(new Random(seed), Shape.Scalar));
                Assert.True(r.Passed, $"{d.Name} seed {seed}: {string.Join("; ", r.Worst.Select(w => $"{w.Input}[{w.Index}] {w.Analytic:R} vs {w.Numeric:R}"))}");
                Assert.True(r.Checked > 0, d.Name);
            }
        }
    }

    [Fact]
    public void The_check_does_not_modify_the_callers_inputs()
    {
        var x = T.D(1, 2, 3);
        GradCheck.Run(LossRegistry.Default.Create("mse_loss"), new LossInputs().Add("input", x).Add("target", T.D(0, 0, 0)));
        Assert.Equal([1.0, 2, 3], T.Values(x));
    }
}
