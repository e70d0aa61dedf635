using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Probabilistic;

/// <summary>
/// Total variation distance, as Liger-Kernel's <c>LigerTVDLoss(reduction="batchmean", ignore_index=-100)</c>:
/// TVD(p, q) = ½·Σ_v |p_v − q_v| per row of two distributions (BT, V), the largest difference in probability the two
/// can give any event. Bounded in [0, 1] and symmetric, unlike KL it stays finite where one distribution has zeros;
/// Liger uses it for distillation.
/// </summary>
/// <remarks>
/// <para><b>Reductions</b> (Liger's): none gives the (BT, V) terms ½|p − q| (0 on ignored rows); sum Σ; batchmean Σ over
/// the counted rows' terms / their number; mean the same / (rows · V). Rows whose <c>shift_labels</c> equal
/// <c>ignore_index</c> count for nothing; with every row ignored batchmean and mean are 0/0 = NaN, as Liger's division
/// gives, with a zero gradient as PyTorch's cross-entropy (pytorch#70348); Liger's gradient there is 0/0 = NaN too.</para>
/// <para><b>Gradient:</b> ∂/∂p_v = ½·sign(p_v − q_v) times the reduction's scale; q, the teacher, gets none (Liger returns
/// None for it). At a tie p_v = q_v the subgradient is 0, as torch's |·| gives; Liger's kernel writes −½ there. Inputs
/// must be finite; they are not checked to be distributions (Liger does not check either).</para>
/// </remarks>
public sealed class TotalVariationDistance(Reduction reduction = Reduction.BatchMean, long ignoreIndex = -100) : Loss, ILossDefinition
{
    public Reduction Reduction { get; } = reduction;

    public long IgnoreIndex { get; } = ignoreIndex;

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        const string name = "TotalVariationDistance";
        RequireSameShape(inputs, "p", "q");
        Shape shape = inputs["p"].Shape;
        if (shape.Rank != 2) throw LossArgumentException.Shape($"{name}: 'p' must be (BT, V) distributions, got {shape}");
        int rows = shape[0], v = shape[1];
        bool[] counted = ShiftLabels.Counted(inputs, rows, IgnoreIndex, name, shape);
        double[] p = inputs["p"].ToArray<double>(), q = inputs["q"].ToArray<double>();
        int countedRows = counted.Count(c => c);
        var terms = new T[rows * v];
        for (int i = 0; i < rows; i++)
        {
            if (!counted[i]) continue;
            for (int k = i * v; k < i * v + v; k++) terms[k] = T.CreateTruncating(0.5 * Math.Abs(p[k] - q[k]));
        }
        double denominator = Reduction switch { Reduction.BatchMean => countedRows, Reduction.Mean => (double)countedRows * v, _ => 1 };
        Reducer.Reduced reduced = Reducer.Reduce<T>(terms, Reduction, denominator);
        TensorData value = ValueTensor(Reduction, reduced, terms, shape);
        if (!computeGradients) return Result(value);
        var g = new T[rows * v];
        for (int i = 0; i < rows; i++)
        {
            if (!counted[i]) continue;   // zero, also when the scale is 1/0
            for (int k = i * v; k < i * v + v; k++) g[k] = T.CreateTruncating(reduced.Scale * 0.5 * Stable.Sign(p[k] - q[k]));
        }
        return Result(value, ("p", Wrap(g, shape)));
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "TotalVariationDistance",
        Aliases = ["total_variation_distance", "tvd_loss", "tvd", "liger.LigerTVDLoss"],
        Family = LossFamily.Probabilistic,
        Task = LossTask.Distribution,
        Inputs =
        [
            new("p", InputKind.Floating, true, "a distribution per row (BT, V): the student's probabilities"),
            new("q", InputKind.Floating, false, "the other distribution, same shape (the teacher's; no gradient, as Liger)"),
            new("shift_labels", InputKind.Indices, false, "optional labels (BT); rows equal to ignore_index are left out") { Optional = true },
        ],
        Options =
        [
            OptionSpec.Choice("reduction", "batchmean", "none, sum, mean (÷ rows·V) or batchmean (÷ counted rows, Liger's default)", "none", "sum", "mean", "batchmean"),
            OptionSpec.Int("ignore_index", -100, "rows whose shift_labels equal this are left out"),
        ],
        Sample = (r, s) =>
        {
            Shape x = s.Rank == 2 ? s : new Shape(3, 5);
            return new LossInputs().Add("p", Samples.Simplex(r, x)).Add("q", Samples.Simplex(r, x));
        },
        Formula = "ℓ = ½·Σ_v |p_v − q_v| per row",
        Gradient = "∂ℓ/∂p_v = ½·sign(p_v − q_v) (0 at a tie; Liger −½), times the reduction's scale; q none",
        Reference = "Liger-Kernel LigerTVDLoss (liger_kernel.ops.tvd)",
        Stability = "finite for every finite input (all rows ignored with batchmean or mean: NaN, as Liger)",
        Libraries = "Liger-Kernel (LigerTVDLoss)",
        Factory = o => new TotalVariationDistance(Reducer.Parse(o.Choice("reduction")), o.Int("ignore_index")),
    };

    public override LossDescriptor Descriptor => Entry;
}
