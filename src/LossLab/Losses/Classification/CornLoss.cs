using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Classification;

/// <summary>
/// CORN, conditional ordinal regression (Shi, Cao &amp; Raschka, Deep Neural Networks for Rank-Consistent Ordinal
/// Regression Based on Conditional Probabilities, 2023; coral_pytorch's <c>corn_loss(logits, y_train, num_classes)</c>):
/// threshold k's logit answers "is the rank above k, given that it is above k − 1?", so it is trained only on the rows
/// whose rank is at least k; rank consistency then follows from the chain rule of probability, with no weight sharing.
/// </summary>
/// <remarks>
/// <para><b>Definition</b> (logits z (N, K − 1), ranks r (N) in 0..K − 1): the pairs S = {(i, k): r_i ≥ k}, each with the
/// binary target [r_i &gt; k]; ℓ = Σ_S BCE(z_ik, [r_i &gt; k]) / |S|, one value per batch (coral_pytorch's sum over the
/// tasks divided by the examples they used). <b>Gradient:</b> (σ(z_ik) − [r_i &gt; k])/|S| on S, 0 elsewhere. The predicted
/// rank is the number of leading thresholds whose cumulative product of σ(z) exceeds ½.</para>
/// </remarks>
public sealed class CornLoss : Loss, ILossDefinition
{
    private const string Name = "CornLoss";

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        TensorData zT = inputs["logits"], yT = inputs["labels"];
        if (zT.Shape.Rank != 2 || zT.Shape[0] == 0) throw LossArgumentException.Shape($"{Name}: 'logits' must be (N, K − 1) with N ≥ 1, one logit per rank threshold, got shape {zT.Shape}");
        int n = zT.Shape[0], k = zT.Shape[1];
        if (yT.Shape.Rank != 1 || yT.Shape[0] != n) throw LossArgumentException.Shape($"{Name}: 'labels' must be one rank per row ({n}), got shape {yT.Shape}");
        long[] ranks = inputs.Indices("labels");
        for (int i = 0; i < n; i++)
            if (ranks[i] < 0 || ranks[i] > k) throw LossArgumentException.Value($"{Name}: label {ranks[i]} at position {i} is not a rank in [0, {k}] ({k + 1} classes)");
        double[] z = zT.ToArray<double>();
        double total = 0;
        long used = 0;
        var g = computeGradients ? new double[z.Length] : [];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < k && j <= ranks[i]; j++)   // threshold j trains on the rows with rank ≥ j
            {
                double v = z[i * k + j];
                bool above = ranks[i] > j;
                total += above ? Stable.Softplus(-v) : Stable.Softplus(v);
                used++;
                if (computeGradients) g[i * k + j] = above ? -Stable.Sigmoid(-v) : Stable.Sigmoid(v);
            }
        TensorData value = FromDoubles<T>([total / used], Shape.Scalar);
        if (!computeGradients) return Result(value);
        for (int q = 0; q < g.Length; q++) g[q] /= used;
        return Result(value, ("logits", FromDoubles<T>(g, zT.Shape)));
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = Name,
        Aliases = ["corn_loss", "coral_pytorch.corn_loss", "corn"],
        Family = LossFamily.Classification,
        Task = LossTask.MulticlassClassification,
        Inputs =
        [
            new("logits", InputKind.Floating, true, "one conditional logit per rank threshold (N, K − 1)"),
            new("labels", InputKind.Indices, false, "the ranks (N), in 0..K − 1"),
        ],
        Options = [],
        Sample = (r, s) =>
        {
            Shape x = Samples.Or(s, 6, 4);
            long[] ranks = [.. Enumerable.Range(0, x[0]).Select(_ => (long)r.Next(x[1] + 1))];
            return new LossInputs().Add("logits", Samples.Normal(r, x, 2)).Add("labels", TensorData.FromArray(ranks, x[0]));
        },
        Formula = "ℓ = Σ_{(i,k): r_i ≥ k} BCE(z_ik, [r_i > k]) / |{(i, k): r_i ≥ k}|",
        Gradient = "∂ℓ/∂z_ik = (σ(z_ik) − [r_i > k])/|S| where r_i ≥ k, else 0",
        Reference = "Shi, Cao & Raschka, Deep Neural Networks for Rank-Consistent Ordinal Regression Based on Conditional Probabilities, 2023; coral_pytorch corn_loss",
        Stability = "softplus and sigmoid in double: finite for every finite logit",
        LowerBound = 0,
        Libraries = "coral_pytorch (corn_loss, CornLoss)",
        Factory = o => new CornLoss(),
    };

    public override LossDescriptor Descriptor => Entry;
}
