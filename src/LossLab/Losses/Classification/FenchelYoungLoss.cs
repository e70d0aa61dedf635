using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Classification;

/// <summary>
/// The Fenchel–Young loss of a max function (Optax <c>make_fenchel_young_loss(max_fun)(scores, targets)</c>; Blondel,
/// Martins &amp; Niculae, 2020): ℓ = max_Ω(s) − ⟨t, s⟩ over the last axis, one value per row. The max function is
/// <see cref="MaxFunctions.LogSumExp"/> (then ℓ is cross-entropy with probability targets),
/// <see cref="MaxFunctions.Sparsemax"/> (the sparsemax loss), <see cref="MaxFunctions.HardMax"/> (the perceptron
/// loss), or any <see cref="IMaxFunction"/>, including one written with autograd (<see cref="MaxFunctions.FromAutograd"/>).
/// </summary>
/// <remarks>
/// <para><b>Derivation:</b> max_Ω(s) = max_p ⟨p, s⟩ − Ω(p) is convex with gradient ŷ = argmax_p ⟨p, s⟩ − Ω(p) (Danskin),
/// so ∂ℓ/∂s = ŷ(s) − t and ∂ℓ/∂t = −s. Like Optax's, the loss leaves out the Ω(t) term of the paper's
/// L_Ω(s; t) = Ω*(s) + Ω(t) − ⟨s, t⟩, which does not depend on the scores: it is not 0 at a perfect prediction (with
/// the log-sum-exp and a one-hot target it tends to 0; with a soft target it tends to the target's entropy).</para>
/// <para><b>Precision:</b> for a max function with max_Ω(s + c) = max_Ω(s) + c (the three built in), the row is
/// shifted by its maximum m first: ℓ = max_Ω(s − m) − ⟨t, s − m⟩ + m(1 − Σt), an identity whose last term is 0 for
/// targets on the simplex, where max_Ω(s) and ⟨t, s⟩ would otherwise cancel in large scores. Sums run in double.</para>
/// <para>Shapes: scores and targets (…, C) with C ≥ 1; the loss (…) before reduction (default <c>none</c>, Optax's).
/// Scores must be finite (a max function of ±∞ is not a number); targets are any finite vectors, as in Optax. A
/// max function that returns ±∞ or NaN on finite scores is an error naming the row (with <c>allow_nonfinite</c>, it
/// propagates).</para>
/// </remarks>
public sealed class FenchelYoungLoss(IMaxFunction maxFunction, Reduction reduction = Reduction.None) : Loss, ILossDefinition
{
    /// <summary>The Fenchel–Young loss of the log-sum-exp (cross-entropy with probability targets).</summary>
    public FenchelYoungLoss() : this(MaxFunctions.LogSumExp) { }

    public IMaxFunction MaxFunction { get; } = maxFunction ?? throw new ArgumentNullException(nameof(maxFunction));

    public Reduction Reduction { get; } = reduction;

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        string name = Entry.Name;
        RequireSameShape(inputs, "scores", "targets");
        Shape shape = inputs["scores"].Shape;
        if (shape.Rank == 0) throw LossArgumentException.Shape($"{name}: 'scores' must have a class axis (…, C), got a scalar");
        int c = shape[-1];
        Shape rowShape = shape.WithoutAxis(shape.Rank - 1);
        int rows = rowShape.Numel;
        if (c == 0 && rows > 0) throw LossArgumentException.Shape($"{name}: 'scores' has shape {shape}: a max function needs at least one class");
        double[] s = inputs.Floating<double>("scores"), t = inputs.Floating<double>("targets");
        var prediction = new double[s.Length];   // ŷ = ∇max_Ω, row by row; the gradient is built from it
        var shifted = new double[c];
        var loss = new T[rows];
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<double> row = s.AsSpan(r * c, c), target = t.AsSpan(r * c, c);
            double m = 0;
            if (MaxFunction.ShiftEquivariant)
            {
                m = double.NegativeInfinity;
                foreach (double v in row) m = Math.Max(m, v);
            }
            double dot = 0, mass = 0;
            for (int j = 0; j < c; j++)
            {
                shifted[j] = row[j] - m;
                dot += target[j] * shifted[j];
                mass += target[j];
            }
            double max = MaxFunction.Evaluate(shifted, prediction.AsSpan(r * c, c));
            double value = max - dot + m * (1 - mass);
            if (!double.IsFinite(value) && !inputs.AllowNonFinite)
            {
                throw LossArgumentException.Value($"{name}: row {r} gives max_fun '{MaxFunction.Name}' = {max} and loss {value}; the scores and targets must be finite");
            }
            loss[r] = T.CreateTruncating(value);
        }
        Reducer.Reduced reduced = Reducer.Reduce<T>(loss, Reduction, rows);
        TensorData result = ValueTensor(Reduction, reduced, loss, rowShape);
        if (!computeGradients) return Result(result);
        var gs = new T[s.Length];
        var gt = new T[t.Length];
        for (int i = 0; i < s.Length; i++)
        {
            gs[i] = T.CreateTruncating(reduced.Scale * (prediction[i] - t[i]));
            gt[i] = T.CreateTruncating(-reduced.Scale * s[i]);
        }
        return Result(result, ("scores", Wrap(gs, shape)), ("targets", Wrap(gt, shape)));
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "FenchelYoungLoss",
        Aliases = ["fenchel_young_loss", "make_fenchel_young_loss", "optax.make_fenchel_young_loss"],
        Family = LossFamily.Classification,
        Task = LossTask.MulticlassClassification,
        Inputs =
        [
            new("scores", InputKind.Floating, true, "scores (…, C)"),
            new("targets", InputKind.Floating, true, "target vectors, same shape (one-hot or probabilities)"),
        ],
        Options =
        [
            OptionSpec.Choice("max_fun", "logsumexp", "the max function: logsumexp (cross-entropy), sparsemax (sparsemax loss) or max (perceptron); any IMaxFunction from C#", "logsumexp", "sparsemax", "max"),
            OptionSpec.Choice("reduction", "none", "none (Optax: one value per row), mean or sum", "none", "mean", "sum"),
        ],
        Sample = (r, s) => { Shape x = Samples.Or(s, 4, 5); return new LossInputs().Add("scores", Samples.Normal(r, x, 2)).Add("targets", Samples.Simplex(r, x)); },
        Formula = "ℓ = max_Ω(s) − ⟨t, s⟩ over the last axis;  max_Ω = log Σ e^s, the sparsemax cumulant ⟨p, s⟩ + ½⟨p, 1 − p⟩, or max",
        Gradient = "∂ℓ/∂s = ∇max_Ω(s) − t (softmax, sparsemax or one-hot arg max);  ∂ℓ/∂t = −s",
        Reference = "optax.losses.make_fenchel_young_loss (Blondel, Martins & Niculae, 2020)",
        Stability = "finite for every finite input (the row is shifted by its maximum; sums in double)",
        Libraries = "Optax",
        LowerBound = double.NegativeInfinity,   // no Ω(t) term: a soft target's loss goes below 0
        Factory = o => new FenchelYoungLoss(MaxFunctions.FromName(o.Choice("max_fun")), o.Reduction),
    };

    public override LossDescriptor Descriptor => Entry;
}
