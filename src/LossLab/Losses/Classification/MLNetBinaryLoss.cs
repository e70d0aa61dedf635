using LossLab.Losses.Core;

namespace LossLab.Losses.Classification;

/// <summary>
/// The shared shape of ML.NET's binary losses in the catalog (<see cref="SmoothedHingeLoss"/>, <see cref="ExpLoss"/>):
/// ML.NET's argument names (output, label), labels 0/1 or −1/+1 (ML.NET reads above 0 as positive; any other value is
/// named), labels not differentiated, and one value per example by default as ML.NET's <c>Loss(output, label)</c>.
/// </summary>
public abstract class MLNetBinaryLoss<TKernel>(Reduction reduction) : ElementwiseLoss<TKernel>(reduction, null)
    where TKernel : struct, IElementwiseKernel
{
    protected sealed override (string Input, string Target) InputNames => ("output", "label");

    protected sealed override bool TargetDifferentiable => false;

    protected sealed override void Validate<T>(T[] input, T[] target) => BinaryLabels.RequireZeroOneOrSigns(Descriptor.Name, "label", target);

    internal static readonly InputSpec[] OutputAndLabel =
    [
        new("output", InputKind.Floating, true, "scores, any shape"),
        new("label", InputKind.Floating, false, "labels 0/1 or −1/+1, same shape (above 0 is positive)"),
    ];

    internal static OptionSpec PerExampleReduction => OptionSpec.Choice("reduction", "none", "none (ML.NET: one value per example), mean or sum", "none", "mean", "sum");

    internal static LossInputs Sample(Random r, Numerics.Shape s)
        => new LossInputs().Add("output", Samples.Normal(r, Samples.Or(s, 3, 4), 2)).Add("label", Samples.Signs(r, Samples.Or(s, 3, 4)));
}
