using LossLab.Losses.Core;
using LossLab.Numerics;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Losses;

/// <summary>
/// The one contract every registered loss passes: finite-difference gradients in double, finite results at extreme
/// inputs, float32 ≈ float64, reductions that agree with each other, shape and option errors, and the registry round trip.
/// </summary>
public sealed class LossContractTests
{
    public static TheoryData<string> LossNames()
    {
        var data = new TheoryData<string>();
        foreach (LossDescriptor d in LossRegistry.Default.Entries) data.Add(d.Name);
        return data;
    }

    public static TheoryData<string, int> Samples()
    {
        var data = new TheoryData<string, int>();
        foreach (var set in LossSamples.All.Values)
        {
            for (int i = 0; i < set.Samples.Count; i++) data.Add(set.Name, i);
        }
        return data;
    }

    [Fact]
    public void Every_registered_loss_has_contract_samples()
    {
        var missing = LossRegistry.Default.Entries.Select(d => d.Name).Where(n => !LossSamples.All.ContainsKey(n)).ToList();
        Assert.True(missing.Count == 0, "losses without contract samples: " + string.Join(", ", missing));
        Assert.All(LossSamples.All.Keys, n => Assert.True(LossRegistry.Default.TryGet(n, out _), $"sample for unregistered loss {n}"));
    }

    [Theory]
    [MemberData(nameof(Samples))]
    public void Analytic_gradient_matches_central_differences_in_double(string loss, int sample)
    {
        LossSample s = LossSamples.All[loss].Samples[sample];
        ILoss l = LossRegistry.Default.Create(loss, s.Options);
        for (int seed = 0; seed < 3; seed++)
        {
            LossInputs inputs = s.Make(new Random(1000 * sample + seed));
            var bad = FiniteDifferences.Check(l, inputs, Differentiable(l.Descriptor, inputs));
            Assert.True(bad.Count == 0, $"{s.Label} seed {seed}: " + string.Join("; ", bad.Take(5).Select(m => $"{m.Input}[{m.Index}] analytic {m.Analytic:R} numeric {m.Numeric:R}")));
        }
    }

    /// <summary>
    /// A loss reads its inputs and never writes them: TensorData.ToArray hands back a tensor's own storage when no
    /// conversion is needed, so a kernel that scales or normalizes that array in place would change the caller's tensor
    /// (and every later evaluation of it). Checked in both precisions, with and without gradients.
    /// </summary>
    [Theory]
    [MemberData(nameof(Samples))]
    public void Evaluation_leaves_its_inputs_unchanged(string loss, int sample)
    {
        LossSample s = LossSamples.All[loss].Samples[sample];
        ILoss l = LossRegistry.Default.Create(loss, s.Options);
        foreach (DType dtype in new[] { DType.Float32, DType.Float64 })
        {
            LossInputs inputs = T.As(s.Make(new Random(11)), dtype);
            var before = inputs.Tensors.ToDictionary(kv => kv.Key, kv => kv.Value.ToArray<double>().ToArray());
            l.Evaluate(inputs, computeGradients: true);
            l.Evaluate(inputs, computeGradients: false);
            foreach (var (name, values) in before) Assert.True(values.SequenceEqual(inputs[name].ToArray<double>()), $"{s.Label} ({dtype}): the loss changed its input '{name}'");
        }
    }

    [Theory]
    [MemberData(nameof(Samples))]
    public void Float32_agrees_with_float64(string loss, int sample)
    {
        LossSample s = LossSamples.All[loss].Samples[sample];
        ILoss l = LossRegistry.Default.Create(loss, s.Options);
        LossInputs d = s.Make(new Random(7));
        LossInputs f = T.As(d, DType.Float32);
        // Inputs rounded to float32 first, so both runs see the same numbers.
        LossInputs d2 = T.As(f, DType.Float64);
        LossResult r32 = l.Evaluate(f), r64 = l.Evaluate(d2);
        Assert.Equal(DType.Float32, r32.Value.DType);
        Assert.Equal(DType.Float64, r64.Value.DType);
        T.Close(T.Values(r64.Value), r32.Value, rel: 2e-5, abs: 1e-5);
        foreach (var (name, g) in r64.Gradients) T.Close(T.Values(g), r32.Gradient(name), rel: 2e-5, abs: 1e-5);
    }

    [Theory]
    [MemberData(nameof(LossNames))]
    public void Extreme_inputs_give_finite_values_and_gradients(string loss)
    {
        foreach (ExtremeSample e in LossSamples.All[loss].Extremes)
        {
            foreach (string? reduction in Reduces(loss) ? new string?[] { "none", "sum" } : [null])
            {
                var options = new Dictionary<string, object?>(e.Options);
                if (reduction is not null) options["reduction"] = reduction;
                LossResult r = LossRegistry.Default.Create(loss, options).Evaluate(e.Inputs);
                Assert.All(T.Values(r.Value), v => Assert.True(double.IsFinite(v), $"{loss} {reduction}: value {v}"));
                foreach (string name in e.FiniteGradients)
                {
                    Assert.All(T.Values(r.Gradient(name)), v => Assert.True(double.IsFinite(v), $"{loss} {reduction}: d/d{name} = {v}"));
                }
            }
        }
    }

    /// <summary>
    /// A NaN in a differentiable input (its first element, then every element) is an invalid_value error naming the input
    /// by default. On the autograd path (non-finite inputs allowed, as in PyTorch) it comes out of the loss as NaN, or as
    /// that error where the input has a domain (probabilities, variances, boxes); never as a finite value that hides it.
    /// </summary>
    [Theory]
    [MemberData(nameof(LossNames))]
    public void A_NaN_input_is_rejected_or_propagates_never_a_finite_loss(string loss)
    {
        // PyTorch's multi_margin_loss and multilabel_margin_loss add a margin term only when it is > 0, so a NaN one is
        // skipped there, and these keep that semantics; nll_loss reads only each row's target entry.
        string[] dropsNaN = ["MultiMarginLoss", "MultilabelMarginLoss"];
        string[] readsSome = ["NllLoss"];
        LossDescriptor d = LossRegistry.Default.Get(loss);
        LossSample s = LossSamples.All[loss].Samples[0];
        var options = new Dictionary<string, object?>(s.Options);
        if (Reduces(loss)) options["reduction"] = "sum";
        ILoss l = LossRegistry.Default.Create(loss, options);
        foreach (string name in Differentiable(d, s.Make(new Random(4))))
        {
            foreach (bool every in new[] { false, true })
            {
                LossInputs inputs = s.Make(new Random(4));
                double[] values = inputs[name].ToArray<double>();
                if (every) Array.Fill(values, double.NaN);
                else values[0] = double.NaN;
                var poisoned = new LossInputs(inputs.Tensors).Add(name, TensorData.FromArray(values, [.. inputs[name].Shape.Dims]));
                var e = Assert.Throws<LossArgumentException>(() => l.Evaluate(poisoned));
                Assert.Contains(name, e.Message, StringComparison.Ordinal);
                poisoned.AllowNonFinite = true;
                LossResult r;
                try
                {
                    r = l.Evaluate(poisoned);
                }
                catch (LossArgumentException domain)
                {
                    Assert.Contains("NaN", domain.Message, StringComparison.Ordinal);
                    continue;
                }
                if (dropsNaN.Contains(loss) || (!every && readsSome.Contains(loss))) continue;
                Assert.True(T.Values(r.Value).Any(double.IsNaN), $"{loss}: NaN in {(every ? "every element of " : "")}{name}[0] gave a finite loss {string.Join(", ", T.Values(r.Value).Take(4))}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(LossNames))]
    public void Reductions_agree_sum_is_total_and_mean_divides_by_count(string loss)
    {
        LossSampleSet set = LossSamples.All[loss];
        LossInputs inputs = set.Samples[0].Make(new Random(3));
        if (!Reduces(loss))
        {
            // One value per batch by definition (the self-supervised losses of two views): a scalar, and no reduction option.
            Assert.Equal(Shape.Scalar, LossRegistry.Default.Create(loss).Evaluate(inputs).Value.Shape);
            return;
        }
        LossResult none = LossRegistry.Default.Create(loss, T.Opt(("reduction", "none"))).Evaluate(inputs);
        LossResult sum = LossRegistry.Default.Create(loss, T.Opt(("reduction", "sum"))).Evaluate(inputs);
        LossResult mean = LossRegistry.Default.Create(loss, T.Opt(("reduction", "mean"))).Evaluate(inputs);
        double total = T.Values(none.Value).Sum();
        T.Close(total, sum.Scalar, rel: 1e-12);
        foreach (var (name, g) in sum.Gradients) T.Close(T.Values(g), none.Gradient(name), rel: 1e-12);
        if (!set.PlainMean) return;   // e.g. CTC: mean divides each sample by its target length (tested in its own file)
        T.Close(total / none.Value.Length, mean.Scalar, rel: 1e-12);
        foreach (var (name, g) in sum.Gradients) T.Close(T.Values(g).Select(v => v / none.Value.Length).ToArray(), mean.Gradient(name), rel: 1e-12);
    }

    [Theory]
    [MemberData(nameof(LossNames))]
    public void A_second_input_of_the_wrong_shape_is_an_invalid_shape_error(string loss)
    {
        LossInputs good = LossSamples.All[loss].Samples[0].Make(new Random(1));
        ILoss l = LossRegistry.Default.Create(loss);
        foreach (string name in good.Tensors.Keys.Skip(1).Except(LossSamples.All[loss].ShapeCheckSkip))
        {
            var bad = new LossInputs(good.Tensors);
            TensorData t = good[name];
            bad.Add(name, TensorData.Zeros(new Shape(t.Length + 1), t.DType));
            var e = Assert.Throws<LossArgumentException>(() => l.Evaluate(bad));
            Assert.Equal(LossErrorCode.InvalidShape, e.Code);
            Assert.Contains(name, e.Message);
            Assert.Contains($"({t.Length + 1},)", e.Message);
        }
    }

    [Theory]
    [MemberData(nameof(LossNames))]
    public void Unknown_options_wrong_option_types_and_missing_inputs_are_typed_errors(string loss)
    {
        var unknown = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create(loss, T.Opt(("no_such_option", 1L))));
        Assert.Equal(LossErrorCode.UnsupportedOption, unknown.Code);
        Assert.Contains("no_such_option", unknown.Message);
        if (Reduces(loss))
        {
            var wrongType = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create(loss, T.Opt(("reduction", 5L))));
            Assert.Equal(LossErrorCode.InvalidValue, wrongType.Code);
            var badChoice = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create(loss, T.Opt(("reduction", "average"))));
            Assert.Equal(LossErrorCode.UnsupportedOption, badChoice.Code);
        }
        else
        {
            // A numeric option given a string is the wrong type; a choice given one it does not offer is unsupported.
            // (CORN has no option at all, as coral_pytorch's corn_loss.)
            if (LossRegistry.Default.Get(loss).Options.FirstOrDefault(o => o.Kind is OptionKind.Float or OptionKind.Int or OptionKind.Choice) is OptionSpec option)
            {
                var bad = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create(loss, T.Opt((option.Name, "high"))));
                Assert.Equal(option.Kind == OptionKind.Choice ? LossErrorCode.UnsupportedOption : LossErrorCode.InvalidValue, bad.Code);
                Assert.Contains(option.Name, bad.Message, StringComparison.Ordinal);
            }
        }
        var missing = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create(loss).Evaluate(new LossInputs()));
        Assert.Contains("missing input", missing.Message);
    }

    [Theory]
    [MemberData(nameof(LossNames))]
    public void Registry_round_trip_every_name_resolves_and_defaults_reproduce_the_default_loss(string loss)
    {
        LossDescriptor d = LossRegistry.Default.Get(loss);
        Assert.Contains(d.Aliases, a => a.Contains('_', StringComparison.Ordinal) || a.StartsWith("keras.", StringComparison.Ordinal) || a.All(char.IsLower));
        foreach (string name in d.AllNames)
        {
            Assert.Same(d, LossRegistry.Default.Get(name));
            Assert.Same(d, LossRegistry.Default.Get(name.ToUpperInvariant()));
        }
        // Passing every option's documented default explicitly gives the same numbers as passing nothing.
        var explicitDefaults = d.Options.ToDictionary(o => o.Name, o => o.Default);
        LossInputs inputs = LossSamples.All[loss].Samples[0].Make(new Random(11));
        LossResult a = d.Create().Evaluate(inputs), b = d.Create(explicitDefaults).Evaluate(inputs);
        Assert.Equal(T.Values(a.Value), T.Values(b.Value));
        Assert.Equal(a.Gradients.Keys.Order(), b.Gradients.Keys.Order());
        Assert.False(string.IsNullOrWhiteSpace(d.Formula));
        Assert.False(string.IsNullOrWhiteSpace(d.Reference));
        Assert.False(string.IsNullOrWhiteSpace(d.Stability));
    }

    [Theory]
    [MemberData(nameof(LossNames))]
    public void Gradients_are_returned_for_exactly_the_differentiable_floating_inputs(string loss)
    {
        LossDescriptor d = LossRegistry.Default.Get(loss);
        LossInputs inputs = LossSamples.All[loss].Samples[0].Make(new Random(2));
        LossResult r = d.Create().Evaluate(inputs);
        Assert.Equal(Differentiable(d, inputs).Order(), r.Gradients.Keys.Order());
        foreach (var (name, g) in r.Gradients) Assert.Equal(inputs[name].Shape, g.Shape);
    }

    [Fact]
    public void Unknown_loss_names_suggest_close_names()
    {
        var e = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Get("cross_entropi"));
        Assert.Equal(LossErrorCode.UnknownLoss, e.Code);
        Assert.Contains("cross_entropy", e.Message);
    }

    [Theory]
    [InlineData("bce_with_logits", "BCEWithLogitsLoss")]      // a shortened PyTorch name: contained in the real one
    [InlineData("focal", "focal_loss")]
    [InlineData("kl", "kl_div")]                              // two letters: names that begin with them
    [InlineData("CrossEntropi", "CrossEntropy")]              // a typo: the name spelled like the query
    [InlineData("cross_entropi", "cross_entropy")]
    [InlineData("ctc_los", "ctc_loss")]
    public void Suggestions_find_shortened_and_mistyped_names(string query, string expected)
    {
        List<string> s = LossRegistry.Default.Suggestions(query);
        Assert.Equal(expected, s[0]);
        Assert.InRange(s.Count, 1, 5);
        // One name per loss: a loss's aliases never crowd out other losses.
        Assert.Equal(s.Count, s.Select(n => LossRegistry.Default.Get(n)).Distinct().Count());
    }

    [Theory]
    [InlineData("xyzzy")]
    [InlineData("zz")]
    public void Names_like_no_loss_suggest_the_catalog(string query)
    {
        Assert.Empty(LossRegistry.Default.Suggestions(query));
        Assert.Contains("losslab losses", Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Get(query)).Message);
    }

    internal static IEnumerable<string> Differentiable(LossDescriptor d, LossInputs inputs)
        => d.Inputs.Where(i => i.Differentiable && inputs.Contains(i.Name) && inputs[i.Name].DType.IsFloating()).Select(i => i.Name);

    /// <summary>Whether the loss has a reduction option; the self-supervised losses of two views give one value per batch and have none.</summary>
    private static bool Reduces(string loss) => LossRegistry.Default.Get(loss).Options.Any(o => o.Name == "reduction");

    /// <summary>The losses without a reduction option, named so that a new one is a decision, not an oversight.</summary>
    [Fact]
    public void Only_the_batch_level_losses_have_no_reduction()
        => Assert.Equal(["AnglELoss", "BarlowTwinsLoss", "BatchAllTripletLoss", "BatchHardTripletLoss", "BatchSemiHardTripletLoss", "CoSENTLoss", "CornLoss", "FlopsLoss", "GlobalOrthogonalRegularizationLoss", "GrpoLoss", "HistogramLoss", "KerasFeatureDistillation", "KerasLogitsDistillation", "KernelMmdLoss", "LambdaLoss", "MccLoss", "MceAndWkLoss", "OnlineContrastiveLoss", "PnpLoss", "ProxyAnchorLoss", "RankNetLoss", "SinkhornDivergence", "SmoothApLoss", "ThresholdConsistentMarginLoss", "VicRegLoss", "WeightedKappaLoss"], LossRegistry.Default.Entries.Where(d => !Reduces(d.Name)).Select(d => d.Name).Order());
}
