using System.Numerics;
using LossLab.Losses.Core;

namespace LossLab.Losses.Classification;

/// <summary>
/// Multiclass sparsemax loss (Optax <c>multiclass_sparsemax_loss(scores, labels)</c>; Martins &amp; Astudillo, 2016):
/// the Fenchel–Young loss of sparsemax, the Euclidean projection p of the scores onto the probability simplex.
/// ℓ = Σ_{j: p_j &gt; 0} p_j·(x_j − x_y) + ½(1 − ‖p‖²). It is 0 exactly when sparsemax(x) is the one-hot label, which a
/// finite margin reaches (softmax never does), and its gradient is p − onehot(y): sparse, like the prediction.
/// </summary>
/// <remarks>
/// <para><b>Projection:</b> p_j = max(x_j − τ, 0) with τ such that Σp = 1. τ is found by Michelot's iteration: start
/// from every class, set τ = (Σ_S x − 1)/|S|, drop the classes with x_j ≤ τ, and repeat until none is dropped (at most
/// C rounds, usually two or three; no sort and no scratch memory). The sums run in double.</para>
/// <para><b>Derivation:</b> with the Gini negentropy Ω(p) = ½‖p‖² − ½ on the simplex, Ω*(x) = p·x − ½‖p‖² + ½ and
/// ∇Ω* = p, so ℓ = Ω*(x) + Ω(e_y) − x_y = p·x − x_y + ½(1 − ‖p‖²) (the form above, using Σp = 1, which keeps the
/// differences x_j − x_y small), and ∂ℓ/∂x = p − e_y. Default reduction <c>none</c> (Optax returns one value per
/// row). Finite for every finite input.</para>
/// </remarks>
public sealed class MulticlassSparsemaxLoss(Reduction reduction = Reduction.None) : IndexedRowLoss(reduction), ILossDefinition
{
    /// <summary>The simplex threshold τ of one row: sparsemax(x)_j = max(x_j − τ, 0).</summary>
    internal static double Threshold<T>(ReadOnlySpan<T> x) where T : struct, IFloatingPointIeee754<T>
    {
        double tau = double.NegativeInfinity;
        int kept = -1;
        while (true)
        {
            double sum = 0;
            int count = 0;
            foreach (T v in x)
            {
                double d = double.CreateTruncating(v);
                if (d > tau) { sum += d; count++; }
            }
            // The support only shrinks (τ rises); it stops when a round keeps what the last one kept.
            if (count == kept || count == 0) return tau;
            kept = count;
            tau = (sum - 1) / count;
        }
    }

    protected override (string Scores, string Labels) Names => ("scores", "labels");

    protected override T RowValue<T>(ReadOnlySpan<T> x, int y)
    {
        double tau = Threshold(x), xy = double.CreateTruncating(x[y]), cross = 0, squares = 0;
        foreach (T v in x)
        {
            double d = double.CreateTruncating(v), p = d - tau;
            if (p <= 0) continue;
            cross += p * (d - xy);
            squares += p * p;
        }
        return T.CreateTruncating(cross + 0.5 * (1 - squares));
    }

    protected override void RowGradient<T>(ReadOnlySpan<T> x, int y, T scale, Span<T> g)
    {
        double tau = Threshold(x), s = double.CreateTruncating(scale);
        for (int j = 0; j < x.Length; j++) g[j] += T.CreateTruncating(s * Math.Max(double.CreateTruncating(x[j]) - tau, 0));
        g[y] -= scale;
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "MulticlassSparsemaxLoss",
        Aliases = ["multiclass_sparsemax_loss", "optax.multiclass_sparsemax_loss", "sparsemax"],
        Family = LossFamily.Classification,
        Task = LossTask.MulticlassClassification,
        Inputs = OptaxScoresAndLabels,
        Options = [OptionSpec.Choice("reduction", "none", "none (Optax: one value per row), mean or sum", "none", "mean", "sum")],
        Sample = OptaxSample,
        Formula = "ℓ = Σ_j p_j(x_j − x_y) + ½(1 − ‖p‖²),  p = sparsemax(x) = max(x − τ, 0), Σp = 1",
        Gradient = "∂ℓ/∂x = sparsemax(x) − onehot(y)",
        Reference = "optax.losses.multiclass_sparsemax_loss (Martins & Astudillo, 2016)",
        Stability = "finite for every finite input (the threshold and sums run in double)",
        Libraries = "Optax",
        Factory = o => new MulticlassSparsemaxLoss(o.Reduction),
    };

    public override LossDescriptor Descriptor => Entry;
}
