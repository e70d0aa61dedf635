using System.Numerics;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Ranking;

/// <summary>
/// The shared body of the reference-free preference losses (<see cref="SimPoLoss"/>, <see cref="OrpoLoss"/>): two
/// tensors of one shape, the policy's (length-averaged) log-probabilities of each chosen and each rejected response,
/// one loss per pair from <see cref="Term"/>, and the reduction (default mean, as TRL's).
/// </summary>
public abstract class PolicyPairLoss(Reduction reduction) : Loss
{
    private const string Chosen = "policy_chosen_logps", Rejected = "policy_rejected_logps";

    public Reduction Reduction { get; } = reduction;

    /// <summary>ℓ for one pair of log-probabilities (chosen c, rejected r), and ∂ℓ/∂c, ∂ℓ/∂r.</summary>
    protected abstract (double Loss, double Dc, double Dr) Term(double c, double r);

    /// <summary>Checks the log-probabilities before anything is computed (e.g. ORPO's c, r &lt; 0).</summary>
    protected virtual void Validate(double[] chosen, double[] rejected) { }

    protected sealed override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        RequireSameShape(inputs, Chosen, Rejected);
        Shape shape = inputs[Chosen].Shape;
        double[] c = inputs.Floating<double>(Chosen), r = inputs.Floating<double>(Rejected);
        Validate(c, r);
        int count = shape.Numel;
        var loss = new T[count];
        var dc = new double[count];
        var dr = new double[count];
        for (int i = 0; i < count; i++)
        {
            (double l, dc[i], dr[i]) = Term(c[i], r[i]);
            loss[i] = T.CreateTruncating(l);
        }
        Reducer.Reduced reduced = Reducer.Reduce<T>(loss, Reduction, count);
        TensorData value = ValueTensor(Reduction, reduced, loss, shape);
        if (!computeGradients) return Result(value);
        var gc = new T[count];
        var gr = new T[count];
        for (int i = 0; i < count; i++)
        {
            gc[i] = T.CreateTruncating(reduced.Scale * dc[i]);
            gr[i] = T.CreateTruncating(reduced.Scale * dr[i]);
        }
        return Result(value, (Chosen, Wrap(gc, shape)), (Rejected, Wrap(gr, shape)));
    }

    /// <summary>The chosen responses' token cross-entropy, one number for the batch (TRL's nll_loss): CPO's and RPO's term.</summary>
    internal const string Nll = "policy_nll_loss";

    /// <summary>The optional <see cref="Nll"/> input, described by what the loss does with it.</summary>
    internal static InputSpec NllInput(string use)
        => new(Nll, InputKind.Floating, true, $"the cross-entropy of the chosen responses' tokens, one number () ({use}; each pair carries it)") { Optional = true };

    /// <summary>The batch's NLL when given (checked to be one number), else null.</summary>
    internal static double? BatchNll(LossInputs inputs, string loss)
    {
        if (!inputs.Contains(Nll)) return null;
        Shape s = inputs[Nll].Shape;
        if (s.Rank != 0) throw LossArgumentException.Shape($"{loss}: '{Nll}' is one number for the batch (shape ()), got shape {s}");
        return inputs.Floating<double>(Nll)[0];
    }

    /// <summary>∂(reduced loss)/∂nll when each of <paramref name="count"/> pairs carries weight·nll: the weight for the mean, count times it for the sum.</summary>
    internal static double NllSlope(Reduction reduction, int count, double weight) => reduction == Reduction.Mean ? weight : count * weight;

    internal static readonly InputSpec[] PairInputs =
    [
        new(Chosen, InputKind.Floating, true, "the policy's average log-probability per token of each chosen response (B)"),
        new(Rejected, InputKind.Floating, true, "the same for each rejected response, same shape"),
    ];

    /// <summary>Average token log-probabilities in [−3, −0.05): the rejected a little lower on average.</summary>
    internal static LossInputs PairSample(Random r, Shape s)
    {
        Shape x = Samples.Or(s, 6);
        TensorData Logps(double low) => TensorData.Create(x, DType.Float64, Enumerable.Range(0, x.Numel).Select(_ => low + (-0.05 - low) * r.NextDouble()).ToArray());
        return new LossInputs().Add(Chosen, Logps(-2.5)).Add(Rejected, Logps(-3));
    }
}
