using System.Numerics;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Ranking;

/// <summary>
/// Pairwise ranking: ℓ = max(0, −y·(x₁ − x₂) + margin), y = 1 when x₁ should rank higher, −1 otherwise.
/// </summary>
/// <remarks>
/// PyTorch <c>torch.nn.functional.margin_ranking_loss(input1, input2, target, margin=0, reduction='mean')</c>.
/// Gradient: with z = −y(x₁ − x₂) + margin, ∂ℓ/∂x₁ = −y·[z ≥ 0] = −∂ℓ/∂x₂ (clamp_min passes the gradient at
/// z = 0). All three tensors have one shape; the target is not differentiated. Finite for every finite input.
/// </remarks>
public sealed class MarginRankingLoss(MarginRankingLoss.Options options) : Loss, ILossDefinition
{
    public MarginRankingLoss() : this(new Options()) { }

    public sealed record Options
    {
        public Reduction Reduction { get; init; } = Reduction.Mean;

        public double Margin { get; init; }
    }

    /// <summary>loss[i] = max(0, −y[i](a[i] − b[i]) + m). Shapes: all (n).</summary>
    public static void Forward<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, ReadOnlySpan<T> y, T margin, Span<T> loss)
        where T : struct, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < a.Length; i++) loss[i] = T.Max(-y[i] * (a[i] - b[i]) + margin, T.Zero);
    }

    /// <summary>ga[i] = −g·y[i]·[z ≥ 0], gb[i] = −ga[i].</summary>
    public static void Backward<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, ReadOnlySpan<T> y, T margin, T upstream, Span<T> ga, Span<T> gb)
        where T : struct, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < a.Length; i++)
        {
            T z = -y[i] * (a[i] - b[i]) + margin;
            T g = z >= T.Zero ? -upstream * y[i] : T.Zero;
            ga[i] = g;
            gb[i] = -g;
        }
    }

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        RequireSameShape(inputs, "input1", "input2");
        RequireSameShape(inputs, "input1", "target");
        Shape shape = inputs["input1"].Shape;
        T[] a = inputs.Floating<T>("input1"), b = inputs.Floating<T>("input2"), y = inputs.Floating<T>("target");
        T m = T.CreateTruncating(options.Margin);
        var loss = new T[a.Length];
        Forward<T>(a, b, y, m, loss);
        Reducer.Reduced reduced = Reducer.Reduce<T>(loss, options.Reduction, a.Length);
        TensorData value = ValueTensor(options.Reduction, reduced, loss, shape);
        if (!computeGradients) return Result(value);
        var ga = new T[a.Length];
        var gb = new T[a.Length];
        Backward<T>(a, b, y, m, T.CreateTruncating(reduced.Scale), ga, gb);
        return Result(value, ("input1", Wrap(ga, shape)), ("input2", Wrap(gb, shape)));
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "MarginRankingLoss",
        Aliases = ["margin_ranking_loss"],
        Family = LossFamily.Ranking,
        Task = LossTask.Ranking,
        Inputs =
        [
            new("input1", InputKind.Floating, true, "scores of the first items"),
            new("input2", InputKind.Floating, true, "scores of the second items, same shape"),
            new("target", InputKind.Floating, false, "1 if input1 should rank higher, −1 otherwise"),
        ],
        Options = [OptionSpec.Reduction("none", "mean", "sum"), OptionSpec.Float("margin", 0.0, "required score gap")],
        Sample = (r, s) => new LossInputs().Add("input1", Samples.Normal(r, Samples.Or(s, 6))).Add("input2", Samples.Normal(r, Samples.Or(s, 6))).Add("target", Samples.Signs(r, Samples.Or(s, 6))),
        Formula = "ℓ = max(0, −y·(x₁ − x₂) + margin)",
        Gradient = "∂ℓ/∂x₁ = −y·[z ≥ 0] = −∂ℓ/∂x₂",
        Reference = "torch.nn.functional.margin_ranking_loss",
        Stability = "finite for every finite input",
        Libraries = "PyTorch, TorchSharp",
        Factory = o => new MarginRankingLoss(new Options { Reduction = o.Reduction, Margin = o.Float("margin") }),
    };

    public override LossDescriptor Descriptor => Entry;
}
