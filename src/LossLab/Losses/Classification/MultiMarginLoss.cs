using System.Numerics;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Classification;

/// <summary>
/// Multi-class hinge (Weston–Watkins): ℓ = (1/C)·Σ_{i≠y} w_y·max(0, margin − x_y + x_i)^p, p ∈ {1, 2}.
/// </summary>
/// <remarks>
/// PyTorch <c>torch.nn.functional.multi_margin_loss(input, target, p=1, margin=1, weight=None, reduction='mean')</c>.
/// Shapes: input (N, C) with target (N), or (C) with a 0-dim target. The divisor is C (the target class included),
/// the weight is w[target] applied after the power (pytorch#104844), and only z = margin − x_y + x_i &gt; 0 counts
/// (strict: the gradient at z = 0 is 0). Gradient: ∂ℓ/∂x_i = w_y·p·z^(p−1)/C for z &gt; 0, and x_y receives minus
/// their sum. <c>mean</c> divides by N. Finite for every finite input.
/// </remarks>
public sealed class MultiMarginLoss : Loss, ILossDefinition
{
    private readonly Options _o;

    public MultiMarginLoss() : this(new Options()) { }

    public MultiMarginLoss(Options options)
    {
        if (options.P is not (1 or 2)) throw LossArgumentException.Value($"MultiMarginLoss: p must be 1 or 2, got {options.P}");
        _o = options;
    }

    public sealed record Options
    {
        public Reduction Reduction { get; init; } = Reduction.Mean;

        /// <summary>1 (hinge) or 2 (squared hinge).</summary>
        public int P { get; init; } = 1;

        public double Margin { get; init; } = 1.0;

        /// <summary>One weight per class, shape (C); the weight of the target class scales the row.</summary>
        public TensorData? Weight { get; init; }
    }

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        Shape shape = inputs["input"].Shape;
        if (!(shape.Rank is 1 or 2)) throw LossArgumentException.Shape($"MultiMarginLoss: 'input' must be (N, C) or (C), got {shape}");
        var L = ClassLayout.Of("MultiMarginLoss", shape);
        L.RequireIndexTarget("MultiMarginLoss", shape, inputs["target"].Shape);
        T[] x = inputs.Floating<T>("input");
        long[] target = inputs.Indices("target");
        T[]? w = L.ClassWeights<T>("MultiMarginLoss", _o.Weight);
        T margin = T.CreateTruncating(_o.Margin), c = T.CreateTruncating(L.C);
        var loss = new T[L.N];
        for (int n = 0; n < L.N; n++)
        {
            long y = target[n];
            L.CheckIndex("MultiMarginLoss", y, long.MinValue, n);
            int o = n * L.C;
            T sum = T.Zero;
            for (int i = 0; i < L.C; i++)
            {
                if (i == y) continue;
                T z = margin - x[o + (int)y] + x[o + i];
                if (z > T.Zero) sum += _o.P == 1 ? z : z * z;
            }
            loss[n] = (w is null ? T.One : w[y]) * sum / c;
        }
        Reducer.Reduced reduced = Reducer.Reduce<T>(loss, _o.Reduction, L.N);
        TensorData value = ValueTensor(_o.Reduction, reduced, loss, L.RowShape);
        if (!computeGradients) return Result(value);
        var grad = new T[x.Length];
        T scale = T.CreateTruncating(reduced.Scale);
        for (int n = 0; n < L.N; n++)
        {
            long y = target[n];
            int o = n * L.C;
            T g = scale * (w is null ? T.One : w[y]) / c;
            for (int i = 0; i < L.C; i++)
            {
                if (i == y) continue;
                T z = margin - x[o + (int)y] + x[o + i];
                if (z <= T.Zero) continue;
                T h = _o.P == 1 ? g : (T.One + T.One) * g * z;
                grad[o + i] += h;
                grad[o + (int)y] -= h;
            }
        }
        return Result(value, ("input", Wrap(grad, shape)));
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "MultiMarginLoss",
        Aliases = ["multi_margin_loss", "multiclass_hinge"],
        Family = LossFamily.Classification,
        Task = LossTask.MulticlassClassification,
        Inputs = [new("input", InputKind.Floating, true, "scores (N, C) or (C)"), new("target", InputKind.Indices, false, "class indices (N) or ()")],
        Options =
        [
            OptionSpec.Reduction("none", "mean", "sum"),
            OptionSpec.Int("p", 1, "1 (hinge) or 2 (squared hinge)"),
            OptionSpec.Float("margin", 1.0, "required gap between the target score and the others"),
            OptionSpec.Tensor("weight", "one weight per class, shape (C)"),
        ],
        Sample = (r, s) => { Shape x = Samples.Or(s, 4, 5); return new LossInputs().Add("input", Samples.Normal(r, x)).Add("target", Samples.Classes(r, x.Rank == 2 ? new Shape(x[0]) : Shape.Scalar, x[x.Rank - 1])); },
        Formula = "ℓ = (1/C)·Σ_{i≠y} w_y·max(0, margin − x_y + x_i)^p",
        Gradient = "∂ℓ/∂x_i = w_y·p·z^(p−1)/C for z > 0; ∂ℓ/∂x_y = −Σ of those",
        Reference = "torch.nn.functional.multi_margin_loss (Weston & Watkins, 1999)",
        Stability = "finite for every finite input",
        Libraries = "PyTorch, TorchSharp",
        Factory = o => new MultiMarginLoss(new Options
        {
            Reduction = o.Reduction,
            P = (int)Math.Clamp(o.Int("p"), int.MinValue, int.MaxValue),
            Margin = o.Float("margin"),
            Weight = o.Tensor("weight"),
        }),
    };

    public override LossDescriptor Descriptor => Entry;
}
