using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Probabilistic;

/// <summary>
/// Liger-Kernel's generalized Jensen–Shannon divergence <c>LigerJSD(beta=0.5, ignore_index=-100)</c> for distillation,
/// called as <c>loss(_input, target, shift_labels=None)</c> on log-probabilities (BT, V): X = log Q, the student's, and
/// Y = log P, the teacher's. With M = βP + (1 − β)Q, JSD_β = β·KL(P‖M) + (1 − β)·KL(Q‖M) per row; β = 0 is the
/// forward KL(P‖Q) and β = 1 the reverse KL(Q‖P) (Liger's special cases: the general formula would give 0 there).
/// </summary>
/// <remarks>
/// <para><b>Value</b> per element (Liger's loss tile): βP(Y − log M) + (1 − β)Q(X − log M), log M =
/// logaddexp(log β + Y, log(1 − β) + X) so that no probability is formed and logged; β = 0: P(Y − X); β = 1: Q(X − Y).
/// A row is the sum of its elements; inputs are taken as given (Liger does not normalize them either).</para>
/// <para><b>Gradient</b> (X only: the teacher gets none, as Liger returns None): ∂/∂X_v = (1 − β)·Q_v·(X_v − log M_v)
/// (the m-terms cancel because ∂M/∂X = (1 − β)Q); β = 0: −P_v; β = 1: Q_v(X_v − Y_v) + Q_v. X is a free log value
/// here, not a log-softmax (the caller's chain rule adds that).</para>
/// <para><b>Reduction:</b> Liger's value is Σ over the counted rows / their number (all rows without
/// <c>shift_labels</c>); rows whose label equals <c>ignore_index</c> count for nothing. With no row counted Liger writes
/// zeros and returns 0: so does mean here (the denominator is max(1, counted)). none gives the (BT) row values (0 on
/// ignored rows), sum their sum.</para>
/// </remarks>
public sealed class GeneralizedJsdLoss(double beta = 0.5, long ignoreIndex = -100, Reduction reduction = Reduction.Mean) : Loss, ILossDefinition
{
    private const string Name = "GeneralizedJsdLoss";

    public double Beta { get; } = beta >= 0 && beta <= 1 ? beta : throw LossArgumentException.Value($"{Name}: beta must be in [0, 1], got {beta}");

    public long IgnoreIndex { get; } = ignoreIndex;

    public Reduction Reduction { get; } = reduction;

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        RequireSameShape(inputs, "_input", "target");
        Shape shape = inputs["_input"].Shape;
        if (shape.Rank != 2) throw LossArgumentException.Shape($"{Name}: '_input' must be log-probabilities (BT, V), got shape {shape}");
        int rows = shape[0], v = shape[1];
        bool[] counted = ShiftLabels.Counted(inputs, rows, IgnoreIndex, Name, shape);
        double[] x = inputs["_input"].ToArray<double>(), y = inputs["target"].ToArray<double>();
        double denominator = Math.Max(1, counted.Count(c => c));
        double scale = Reducer.Scale(Reduction, denominator);
        var loss = new double[rows];
        var g = computeGradients ? new double[x.Length] : null;
        for (int i = 0; i < rows; i++)
        {
            if (!counted[i]) continue;
            Span<double> gi = g is null ? default : g.AsSpan(i * v, v);
            loss[i] = Row(x.AsSpan(i * v, v), y.AsSpan(i * v, v), Beta, gi);
            for (int k = 0; k < gi.Length; k++) gi[k] *= scale;
        }
        Reducer.Reduced reduced = Reducer.Reduce<double>(loss, Reduction, denominator);
        TensorData value = Reduction == Reduction.None ? FromDoubles<T>(loss, new Shape(rows)) : FromDoubles<T>([reduced.Value], Shape.Scalar);
        return g is null ? Result(value) : Result(value, ("_input", FromDoubles<T>(g, shape)));
    }

    /// <summary>
    /// One row's JSD_β of log-values X (student) and Y (teacher), each of length V; writes ∂/∂X into
    /// <paramref name="dx"/> unless it is empty. The kernel the fused linear JSD shares.
    /// </summary>
    internal static double Row(ReadOnlySpan<double> x, ReadOnlySpan<double> y, double beta, Span<double> dx)
    {
        double sum = 0;
        bool grad = !dx.IsEmpty;
        if (beta == 0)
        {
            for (int k = 0; k < x.Length; k++)
            {
                double p = Math.Exp(y[k]);
                sum += p * (y[k] - x[k]);
                if (grad) dx[k] = -p;
            }
            return sum;
        }
        if (beta == 1)
        {
            for (int k = 0; k < x.Length; k++)
            {
                double q = Math.Exp(x[k]), e = q * (x[k] - y[k]);
                sum += e;
                if (grad) dx[k] = e + q;
            }
            return sum;
        }
        double logB = Math.Log(beta), logA = Stable.Log1p(-beta);
        for (int k = 0; k < x.Length; k++)
        {
            double logM = Stable.LogAddExp(logB + y[k], logA + x[k]);
            double p = Math.Exp(y[k]), q = Math.Exp(x[k]);
            double studentTerm = (1 - beta) * q * (x[k] - logM);
            sum += beta * p * (y[k] - logM) + studentTerm;
            if (grad) dx[k] = studentTerm;
        }
        return sum;
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = Name,
        Aliases = ["generalized_jsd", "liger_jsd", "LigerJSD", "liger.LigerJSD"],
        Family = LossFamily.Probabilistic,
        Task = LossTask.Distribution,
        Inputs =
        [
            new("_input", InputKind.Floating, true, "the student's log-probabilities (BT, V), X = log Q"),
            new("target", InputKind.Floating, false, "the teacher's log-probabilities, same shape, Y = log P (no gradient, as Liger)"),
            new("shift_labels", InputKind.Indices, false, "optional labels (BT); rows equal to ignore_index are left out") { Optional = true },
        ],
        Options =
        [
            OptionSpec.Choice("reduction", "mean", "none (rows), sum, or mean: Σ / counted rows (Liger's value)", "none", "sum", "mean"),
            OptionSpec.Float("beta", 0.5, "β in [0, 1]: the teacher's weight in M = βP + (1 − β)Q; 0 forward KL(P‖Q), 1 reverse KL(Q‖P)"),
            OptionSpec.Int("ignore_index", -100, "rows whose shift_labels equal this are left out"),
        ],
        Sample = (r, s) =>
        {
            Shape x = s.Rank == 2 ? s : new Shape(3, 5);
            return new LossInputs().Add("_input", Samples.Simplex(r, x, log: true)).Add("target", Samples.Simplex(r, x, log: true));
        },
        Formula = "ℓ = β·KL(P‖M) + (1 − β)·KL(Q‖M),  M = βP + (1 − β)Q,  P = e^target, Q = e^input;  β = 0: KL(P‖Q), β = 1: KL(Q‖P)",
        Gradient = "∂ℓ/∂X = (1 − β)·Q·(X − log M);  β = 0: −P;  β = 1: Q(X − Y) + Q;  target none",
        Reference = "Liger-Kernel LigerJSD (liger_kernel.ops.jsd); Agarwal et al., On-Policy Distillation of Language Models (GKD), ICLR 2024",
        Stability = "log M by log-add-exp of the log inputs: no probability is logged; finite for every finite input",
        Libraries = "Liger-Kernel (LigerJSD)",
        Factory = o => new GeneralizedJsdLoss(o.Float("beta"), o.Int("ignore_index"), Reducer.Parse(o.Choice("reduction"))),
    };

    public override LossDescriptor Descriptor => Entry;
}
