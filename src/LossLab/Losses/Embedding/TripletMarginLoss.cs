using System.Numerics;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Embedding;

/// <summary>
/// Triplet margin loss: ℓ = max(0, margin + d(a, p) − d(a, n)), d = ‖x − y + eps‖_p (PyTorch's pairwise distance);
/// with <c>swap</c>, d(a, n) is replaced by min(d(a, n), d(p, n)).
/// </summary>
/// <remarks>
/// PyTorch <c>torch.nn.functional.triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False, reduction='mean')</c>.
/// Shapes: (N, D) or (D), all three equal. Gradient: the clamp passes at 0; ∂d/∂x = sgn(u)|u|^(p−1)/d^(p−1) with
/// u = x − y + eps; at a swap tie the gradient is split ½/½ as <c>torch.minimum</c> does (Schroff et al., FaceNet, 2015;
/// Balntas et al. for the swap, 2016). Finite for every finite input.
/// </remarks>
public sealed class TripletMarginLoss : Loss, ILossDefinition
{
    private readonly Options _o;
    private readonly LpDistance _distance;

    public TripletMarginLoss() : this(new Options()) { }

    public TripletMarginLoss(Options options)
    {
        _o = options;
        _distance = new LpDistance(options.P, options.Eps);
    }

    public sealed record Options
    {
        public Reduction Reduction { get; init; } = Reduction.Mean;

        public double Margin { get; init; } = 1.0;

        /// <summary>The norm degree of the pairwise distance (&gt; 0).</summary>
        public double P { get; init; } = 2;

        /// <summary>Added to the difference inside the norm (PyTorch's pairwise_distance).</summary>
        public double Eps { get; init; } = 1e-6;

        /// <summary>Use the harder of d(a, n) and d(p, n) as the negative distance.</summary>
        public bool Swap { get; init; }
    }

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
        => Triplets.Compute<T>(this, inputs, _distance, _o.Margin, _o.Swap, _o.Reduction, computeGradients);

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "TripletMarginLoss",
        Aliases = ["triplet_margin_loss", "triplet"],
        Family = LossFamily.Embedding,
        Task = LossTask.MetricLearning,
        Inputs = Triplets.InputSpecs,
        Options =
        [
            OptionSpec.Reduction("none", "mean", "sum"),
            OptionSpec.Float("margin", 1.0, "required gap between positive and negative distances"),
            OptionSpec.Float("p", 2.0, "norm degree of the pairwise distance"),
            OptionSpec.Float("eps", 1e-6, "added to the difference inside the norm"),
            OptionSpec.Bool("swap", false, "use min(d(a, n), d(p, n)) as the negative distance"),
        ],
        Sample = Triplets.Sample,
        Formula = "ℓ = max(0, margin + ‖a − p + eps‖_p − ‖a − n + eps‖_p)",
        Gradient = "∂d/∂x = sgn(u)|u|^(p−1) / d^(p−1),  u = x − y + eps",
        Reference = "torch.nn.functional.triplet_margin_loss (Schroff et al., FaceNet, 2015)",
        Stability = "finite for every finite input",
        Libraries = "PyTorch, TorchSharp, Optax (triplet_margin_loss), pytorch-metric-learning",
        Factory = o => new TripletMarginLoss(new Options
        {
            Reduction = o.Reduction,
            Margin = o.Float("margin"),
            P = o.Float("p"),
            Eps = o.Float("eps"),
            Swap = o.Bool("swap"),
        }),
    };

    public override LossDescriptor Descriptor => Entry;
}

/// <summary>The shared triplet computation for any <see cref="IEmbeddingDistance"/>.</summary>
internal static class Triplets
{
    public static readonly InputSpec[] InputSpecs =
    [
        new("anchor", InputKind.Floating, true, "embeddings (N, D) or (D)"),
        new("positive", InputKind.Floating, true, "same-class embeddings, same shape"),
        new("negative", InputKind.Floating, true, "other-class embeddings, same shape"),
    ];

    /// <summary>PyTorch's input names; Optax's are plural (<see cref="OptaxNames"/>).</summary>
    public static readonly (string Anchor, string Positive, string Negative) TorchNames = ("anchor", "positive", "negative");

    public static readonly (string Anchor, string Positive, string Negative) OptaxNames = ("anchors", "positives", "negatives");

    /// <summary>anchor, positive and negative embeddings of shape (N, D), default (4, 5).</summary>
    public static LossInputs Sample(Random r, Shape s) => Sample(r, s, TorchNames);

    public static LossInputs Sample(Random r, Shape s, (string Anchor, string Positive, string Negative) names)
    {
        Shape x = Samples.Or(s, 4, 5);
        return new LossInputs().Add(names.Anchor, Samples.Normal(r, x)).Add(names.Positive, Samples.Normal(r, x)).Add(names.Negative, Samples.Normal(r, x));
    }

    public static LossResult Compute<T>(Loss loss, LossInputs inputs, IEmbeddingDistance distance, double margin, bool swap, Reduction reduction, bool computeGradients)
        where T : struct, IFloatingPointIeee754<T>
        => Compute<T>(loss, inputs, distance, margin, swap, reduction, computeGradients, TorchNames);

    public static LossResult Compute<T>(Loss loss, LossInputs inputs, IEmbeddingDistance distance, double margin, bool swap, Reduction reduction, bool computeGradients,
        (string Anchor, string Positive, string Negative) names)
        where T : struct, IFloatingPointIeee754<T>
    {
        Shape shape = inputs[names.Anchor].Shape;
        foreach (string name in new[] { names.Positive, names.Negative })
        {
            if (inputs[name].Shape != shape)
            {
                throw LossArgumentException.Shape($"{loss.Descriptor.Name}: '{name}' has shape {inputs[name].Shape} but '{names.Anchor}' has shape {shape}; they must be equal");
            }
        }
        if (!(shape.Rank is 1 or 2))
        {
            throw LossArgumentException.Shape($"{loss.Descriptor.Name}: embeddings must be (N, D) or (D), got {shape}");
        }
        int n = shape.Rank == 2 ? shape[0] : 1, d = shape[shape.Rank - 1];
        double[] a = inputs[names.Anchor].ToArray<double>(), p = inputs[names.Positive].ToArray<double>(), neg = inputs[names.Negative].ToArray<double>();
        var values = new T[n];
        var parts = new (double Dp, double Dan, double Dpn, double Z)[n];
        for (int i = 0; i < n; i++)
        {
            ReadOnlySpan<double> ai = a.AsSpan(i * d, d), pi = p.AsSpan(i * d, d), ni = neg.AsSpan(i * d, d);
            double dp = distance.Distance(ai, pi), dan = distance.Distance(ai, ni);
            double dpn = swap ? distance.Distance(pi, ni) : double.PositiveInfinity;
            double z = margin + dp - Math.Min(dan, dpn);
            parts[i] = (dp, dan, dpn, z);
            values[i] = T.CreateTruncating(Math.Max(z, 0));
        }
        Reducer.Reduced reduced = Reducer.Reduce<T>(values, reduction, n);
        TensorData value = ValueTensorOf(reduction, reduced, values, shape.Rank == 2 ? new Shape(n) : Shape.Scalar);
        if (!computeGradients) return new LossResult(value, new Dictionary<string, TensorData>());
        var ga = new double[a.Length];
        var gp = new double[a.Length];
        var gn = new double[a.Length];
        for (int i = 0; i < n; i++)
        {
            var (dp, dan, dpn, z) = parts[i];
            if (z < 0) continue;   // clamp_min passes the gradient at z = 0
            double g = reduced.Scale;
            ReadOnlySpan<double> ai = a.AsSpan(i * d, d), pi = p.AsSpan(i * d, d), ni = neg.AsSpan(i * d, d);
            Span<double> gai = ga.AsSpan(i * d, d), gpi = gp.AsSpan(i * d, d), gni = gn.AsSpan(i * d, d);
            distance.Backward(ai, pi, g, gai, gpi);
            // −min(dan, dpn): the gradient goes to the smaller one, split in half at a tie (torch.minimum).
            double wan = dan < dpn ? 1 : dan == dpn ? 0.5 : 0;
            if (wan > 0) distance.Backward(ai, ni, -g * wan, gai, gni);
            if (wan < 1) distance.Backward(pi, ni, -g * (1 - wan), gpi, gni);
        }
        return new LossResult(value, new Dictionary<string, TensorData>
        {
            [names.Anchor] = Loss.FromDoubles<T>(ga, shape),
            [names.Positive] = Loss.FromDoubles<T>(gp, shape),
            [names.Negative] = Loss.FromDoubles<T>(gn, shape),
        });
    }

    private static TensorData ValueTensorOf<T>(Reduction reduction, Reducer.Reduced reduced, T[] values, Shape shape) where T : struct, IFloatingPointIeee754<T>
        => Loss.FromDoubles<T>(reduction == Reduction.None ? values.Select(double.CreateTruncating).ToArray() : [reduced.Value], reduction == Reduction.None ? shape : Shape.Scalar);
}
