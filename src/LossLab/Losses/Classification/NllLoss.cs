using System.Numerics;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Classification;

/// <summary>
/// Negative log-likelihood of class indices given log-probabilities: ℓ = −w_y·x_y (0 for ignored rows).
/// </summary>
/// <remarks>
/// PyTorch <c>torch.nn.functional.nll_loss(input, target, weight=None, ignore_index=-100, reduction='mean')</c>.
/// Shapes as <see cref="CrossEntropy"/>: (C)/(), (N, C)/(N), (N, C, d1..dk)/(N, d1..dk). <c>mean</c> divides by
/// Σ w_y over non-ignored rows; if that is 0 the loss is NaN and the gradient at selected entries is w·(−1/0), NaN
/// (as PyTorch), while ignored rows keep gradient 0. ∂ℓ/∂x_{r,c} = −w_y·[c = y]. The input is not checked to be
/// log-probabilities. Finite for finite inputs.
/// </remarks>
public sealed class NllLoss(NllLoss.Options options) : Loss, ILossDefinition
{
    public NllLoss() : this(new Options()) { }

    public sealed record Options
    {
        public Reduction Reduction { get; init; } = Reduction.Mean;

        /// <summary>One weight per class, shape (C).</summary>
        public TensorData? Weight { get; init; }

        /// <summary>Rows whose target equals this are skipped.</summary>
        public long IgnoreIndex { get; init; } = -100;
    }

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        Shape shape = inputs["input"].Shape;
        var L = ClassLayout.Of("NllLoss", shape);
        L.RequireIndexTarget("NllLoss", shape, inputs["target"].Shape);
        T[] x = inputs.Floating<T>("input");
        T[]? w = L.ClassWeights<T>("NllLoss", options.Weight);
        long[] target = inputs.Indices("target");
        var loss = new T[L.Rows];
        double denominator = 0;
        for (int r = 0; r < L.Rows; r++)
        {
            long t = target[r];
            L.CheckIndex("NllLoss", t, options.IgnoreIndex, r);
            if (t == options.IgnoreIndex) continue;
            T wy = w is null ? T.One : w[t];
            loss[r] = -wy * x[L.Offset(r) + (int)t * L.S];
            denominator += double.CreateTruncating(wy);
        }
        Reducer.Reduced reduced = Reducer.Reduce<T>(loss, options.Reduction, denominator);
        TensorData value = ValueTensor(options.Reduction, reduced, loss, L.RowShape);
        if (!computeGradients) return Result(value);
        var grad = new T[x.Length];
        T scale = T.CreateTruncating(reduced.Scale);
        for (int r = 0; r < L.Rows; r++)
        {
            long t = target[r];
            if (t == options.IgnoreIndex) continue;
            grad[L.Offset(r) + (int)t * L.S] = -(w is null ? T.One : w[t]) * scale;
        }
        return Result(value, ("input", Wrap(grad, shape)));
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "NllLoss",
        Aliases = ["nll_loss", "NLLLoss", "negative_log_likelihood"],
        Family = LossFamily.Classification,
        Task = LossTask.MulticlassClassification,
        Inputs =
        [
            new("input", InputKind.Floating, true, "log-probabilities (C), (N, C) or (N, C, d1..dk)") { AcceptsNegativeInfinity = true },
            new("target", InputKind.Indices, false, "class indices (N, d1..dk)"),
        ],
        Options =
        [
            OptionSpec.Reduction("none", "mean", "sum"),
            OptionSpec.Tensor("weight", "one weight per class, shape (C)"),
            OptionSpec.Int("ignore_index", -100, "target value whose rows are skipped"),
        ],
        Sample = (r, s) => { Shape x = Samples.Or(s, 4, 5); return new LossInputs().Add("input", Samples.Normal(r, x)).Add("target", Samples.Classes(r, x.Rank == 1 ? Shape.Scalar : x.WithoutAxis(1), x[x.Rank == 1 ? 0 : 1])); },
        Formula = "ℓ = −w_y·x_y",
        Gradient = "∂ℓ/∂x_c = −w_y·[c = y]",
        Reference = "torch.nn.functional.nll_loss",
        Stability = "finite for finite inputs",
        Libraries = "PyTorch, TorchSharp",
        Factory = o => new NllLoss(new Options { Reduction = o.Reduction, Weight = o.Tensor("weight"), IgnoreIndex = o.Int("ignore_index") }),
    };

    public override LossDescriptor Descriptor => Entry;
}
