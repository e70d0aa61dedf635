using LossLab.Losses.Core;

namespace LossLab.Losses.Embedding;

/// <summary>
/// Triplet margin loss with any distance: ℓ = max(0, margin + d(a, p) − d(a, n)), swap as in
/// <see cref="TripletMarginLoss"/>.
/// </summary>
/// <remarks>
/// PyTorch <c>torch.nn.functional.triplet_margin_with_distance_loss(anchor, positive, negative, distance_function=None,
/// margin=1.0, swap=False, reduction='mean')</c>; the default distance is <c>pairwise_distance</c> (p = 2, eps = 1e-6).
/// From C#, pass any <see cref="IEmbeddingDistance"/> (its gradient is used as is; see <see cref="DelegateDistance"/>);
/// through the protocol, <c>distance_function</c> names one of pairwise_distance, cosine_distance (1 − cosine
/// similarity) or squared_euclidean. The margin must be positive, as PyTorch requires.
/// </remarks>
public sealed class TripletMarginWithDistanceLoss : Loss, ILossDefinition
{
    private readonly Options _o;

    public TripletMarginWithDistanceLoss() : this(new Options()) { }

    public TripletMarginWithDistanceLoss(Options options)
    {
        if (!(options.Margin > 0)) throw LossArgumentException.Value($"TripletMarginWithDistanceLoss: margin must be > 0, got {options.Margin}");
        _o = options;
    }

    public sealed record Options
    {
        public Reduction Reduction { get; init; } = Reduction.Mean;

        /// <summary>The distance; PyTorch's pairwise_distance by default.</summary>
        public IEmbeddingDistance Distance { get; init; } = new LpDistance();

        public double Margin { get; init; } = 1.0;

        public bool Swap { get; init; }
    }

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
        => Triplets.Compute<T>(this, inputs, _o.Distance, _o.Margin, _o.Swap, _o.Reduction, computeGradients);

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "TripletMarginWithDistanceLoss",
        Aliases = ["triplet_margin_with_distance_loss"],
        Family = LossFamily.Embedding,
        Task = LossTask.MetricLearning,
        Inputs = Triplets.InputSpecs,
        Options =
        [
            OptionSpec.Reduction("none", "mean", "sum"),
            OptionSpec.Choice("distance_function", "pairwise_distance", "the distance d(x, y)", "pairwise_distance", "cosine_distance", "squared_euclidean"),
            OptionSpec.Float("margin", 1.0, "required gap (> 0)"),
            OptionSpec.Bool("swap", false, "use min(d(a, n), d(p, n)) as the negative distance"),
        ],
        Sample = Triplets.Sample,
        Formula = "ℓ = max(0, margin + d(a, p) − d(a, n))",
        Gradient = "∂ℓ/∂a = ∇ₐd(a, p) − ∇ₐd(a, n) where the clamp is active",
        Reference = "torch.nn.functional.triplet_margin_with_distance_loss",
        Stability = "finite for every finite input with the built-in distances",
        Libraries = "PyTorch, TorchSharp, pytorch-metric-learning (distance=)",
        Factory = o => new TripletMarginWithDistanceLoss(new Options
        {
            Reduction = o.Reduction,
            Margin = o.Float("margin"),
            Swap = o.Bool("swap"),
            Distance = o.Choice("distance_function") switch
            {
                "cosine_distance" => new CosineDistance(),
                "squared_euclidean" => new SquaredEuclideanDistance(),
                _ => new LpDistance(),
            },
        }),
    };

    public override LossDescriptor Descriptor => Entry;
}
