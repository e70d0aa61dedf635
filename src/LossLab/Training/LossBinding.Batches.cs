using LossLab.Autograd;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Training;

/// <summary>The losses whose batch is more than (outputs, targets): mined pairs and triplets, and semi-supervised batches.</summary>
public sealed partial class LossBinding
{
    /// <summary>
    /// A metric-learning loss on a batch of embeddings (N, D) and labels: the labels themselves, the batch-hard
    /// triplets or every pair. A batch with no triplet (one class, or single rows) gives 0 with a zero gradient.
    /// </summary>
    private Tensor ComputeEmbedding(Tensor output, ReadOnlySpan<double> targets)
    {
        if (output.Shape.Rank != 2 || output.Shape[0] != targets.Length)
        {
            throw new LossArgumentException(LossErrorCode.InvalidShape, $"{Descriptor.Name}: embeddings {output.Shape} do not match {targets.Length} labels");
        }
        Tensor x = _unitEmbeddings ? BatchMining.UnitRows(output) : output;
        var inputs = new Dictionary<string, Tensor>();
        switch (Embedding)
        {
            case EmbeddingInputs.Labels:
                inputs[InputName] = x;
                inputs[TargetName] = EncodeTargets(targets);
                break;
            case EmbeddingInputs.LabelsAndClassWeights:
                inputs[InputName] = x;
                inputs[TargetName] = EncodeTargets(targets);
                inputs[((IClassParameterLoss)Loss).ParameterInput] = _classWeights?.Value ?? throw new LossArgumentException(LossErrorCode.UnsupportedOption,
                    $"{Descriptor.Name} needs its class parameters ({((IClassParameterLoss)Loss).ParameterInput}): a model creates them when it trains (InitializeParameters), and a saved one lends its own (UseSavedParameters)");
                break;
            case EmbeddingInputs.Triplets:
                var (a, p, n) = BatchMining.HardTriplets(x.ToArray(), x.Shape[1], targets, Metric);
                if (a.Length == 0) return 0 * Ops.Sum(x);
                (inputs[_embeddingNames[0]], inputs[_embeddingNames[1]], inputs[_embeddingNames[2]]) =
                    (BatchMining.Rows(x, a), BatchMining.Rows(x, p), BatchMining.Rows(x, n));
                break;
            default:
                var (first, second, signs) = BatchMining.Pairs(targets, PairRule.SameClass);
                if (first.Length == 0) return 0 * Ops.Sum(x);
                inputs[_embeddingNames[0]] = BatchMining.Rows(x, first);
                inputs[_embeddingNames[1]] = BatchMining.Rows(x, second);
                // ±1 for the cosine embedding loss; sentence-transformers' pair losses take 1 (one class) and 0.
                if (Descriptor.Name is "PairContrastiveLoss" or "OnlineContrastiveLoss") signs = [.. signs.Select(s => (s + 1) / 2)];
                inputs[_embeddingNames[2]] = Tensor.FromArray(signs, [signs.Length], DType.Float32);
                break;
        }
        return Scalar(Loss.Apply(inputs));
    }

    /// <summary>
    /// The loss's class parameters (ArcFace's W (D, C), Proxy Anchor's proxies (C, D)): created for a training run, or
    /// lent by a saved model; null otherwise.
    /// </summary>
    private Nn.Parameter? _classWeights;

    /// <summary>The loss's own parameters (<see cref="IClassParameterLoss"/>): trained with the model's during a run.</summary>
    public IReadOnlyList<Nn.Parameter> Parameters => _classWeights is null ? [] : [_classWeights];

    /// <summary>
    /// Creates the loss's parameters for a training run, in the shape the loss asks for (<see cref="IClassParameterLoss"/>),
    /// with Xavier-uniform entries drawn from <paramref name="random"/> (only their directions matter: the losses
    /// normalize each class vector). No-op for other losses.
    /// </summary>
    public void InitializeParameters(Random random, DType dtype = DType.Float32)
    {
        ArgumentNullException.ThrowIfNull(random);
        if (Embedding != EmbeddingInputs.LabelsAndClassWeights || Loss is not IClassParameterLoss owner) return;
        Shape shape = owner.ParameterShape(Outputs, Classes);
        var w = new double[shape.Numel];
        double bound = Math.Sqrt(6.0 / (shape[0] + shape[1]));
        for (int i = 0; i < w.Length; i++) w[i] = bound * (2 * random.NextDouble() - 1);
        _classWeights = ClassWeights(w, shape[0], shape[1], dtype, trainable: true);
    }

    private static Nn.Parameter ClassWeights(double[] values, int rows, int columns, DType dtype, bool trainable)
        => new("class_weights", Tensor.FromArray(values, [rows, columns], dtype, requiresGrad: trainable), IsWeight: true);

    /// <summary>
    /// Takes <paramref name="model"/>'s saved class parameters (not trained further) for scoring it with this loss;
    /// returns why it cannot, or null when it did or when the loss has none: the model saved none, or saved another
    /// input or shape (ArcFace's W (D, C) fits CosFace, not Proxy Anchor's proxies (C, D)).
    /// </summary>
    public string? UseSavedParameters(Model model)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (Embedding != EmbeddingInputs.LabelsAndClassWeights || Loss is not IClassParameterLoss owner) return null;
        Shape shape = owner.ParameterShape(Outputs, Classes);
        _classWeights = null;   // a refusal leaves none behind
        if (model.ClassParameters is not ClassParameters saved)
        {
            return $"its class parameters ({owner.ParameterInput} {shape}) train with the model, and this model (trained with {model.LossName}) saved none";
        }
        if (saved.Input != owner.ParameterInput || saved.Rows != shape[0] || saved.Columns != shape[1])
        {
            return $"it needs {owner.ParameterInput} {shape}; the model saved {saved.Input} ({saved.Rows}, {saved.Columns}) from {model.LossName}";
        }
        DType dtype = model.Network.Parameters.FirstOrDefault()?.Value.DType ?? DType.Float32;
        _classWeights = ClassWeights([.. saved.Values], saved.Rows, saved.Columns, dtype, trainable: false);
        return null;
    }

    /// <summary>
    /// Throws when a semi-supervised loss would train without unlabeled rows: every training row keeps its label
    /// (<paramref name="unlabeledRows"/> is the count left unlabeled, or −1 when not yet known).
    /// </summary>
    public void RequireUnlabeledRows(double labeledFraction, int unlabeledRows = -1)
    {
        if (SemiSupervised && (labeledFraction >= 1 || unlabeledRows == 0))
        {
            throw new LossArgumentException(LossErrorCode.UnsupportedOption,
                $"{Descriptor.Name} learns from unlabeled rows as well: keep the labels of only part of the training rows with --labeled-fraction (e.g. 0.1)"
                + (unlabeledRows == 0 ? $"; at {labeledFraction.ToString(System.Globalization.CultureInfo.InvariantCulture)} every training row keeps its label" : ""));
        }
    }

    /// <summary>The labeled term of the semi-supervised losses, for the validation and test loss: mean cross-entropy.</summary>
    private static readonly ILoss LabeledTerm = new Losses.Classification.CrossEntropy();

    /// <summary>
    /// FixMatch on a labeled batch (B, C) with its labels and the weak and strong views' outputs of an unlabeled batch
    /// (U, C); without them (null), an empty unlabeled batch: the labeled term alone.
    /// </summary>
    public Tensor ComputeSemiSupervised(Tensor labeled, ReadOnlySpan<double> targets, Tensor? weak, Tensor? strong)
    {
        ArgumentNullException.ThrowIfNull(labeled);
        if (!SemiSupervised || MixesBatches) throw new InvalidOperationException($"{Descriptor.Name} takes no weak and strong views");
        Tensor empty = Tensor.FromArray(Array.Empty<double>(), [0, Outputs], labeled.DType);
        return Scalar(Loss.Apply(new Dictionary<string, Tensor>
        {
            ["labeled_logits"] = labeled,
            ["labeled_labels"] = EncodeTargets(targets),
            ["unlabeled_weak_logits"] = weak ?? empty,
            ["unlabeled_strong_logits"] = strong ?? empty,
        }));
    }

    /// <summary>
    /// MixMatch on the mixed labeled batch's logits (B, C) with its mixed targets, and the mixed unlabeled batch's (U, C);
    /// <paramref name="rampUp"/> in [0, 1] scales its λ_u (MixMatch ramps it up linearly; at full weight from the start
    /// the unlabeled term collapses the model to one class).
    /// </summary>
    public Tensor ComputeMixMatch(Tensor labeled, double[] labeledTargets, Tensor unlabeled, double[] unlabeledTargets, double rampUp = 1)
    {
        ArgumentNullException.ThrowIfNull(labeled);
        ArgumentNullException.ThrowIfNull(unlabeled);
        ArgumentNullException.ThrowIfNull(labeledTargets);
        ArgumentNullException.ThrowIfNull(unlabeledTargets);
        if (!MixesBatches) throw new InvalidOperationException($"{Descriptor.Name} takes no mixed batches");
        if (!(rampUp is >= 0 and <= 1)) throw new ArgumentOutOfRangeException(nameof(rampUp), $"the ramp-up factor must be in [0, 1], got {rampUp}");
        ILoss loss = rampUp == 1 ? Loss : Descriptor.Create(new Dictionary<string, object?>(Options) { ["lambda_u"] = _lambdaU * rampUp });
        return Scalar(loss.Apply(new Dictionary<string, Tensor>
        {
            ["labeled_logits"] = labeled,
            ["labeled_labels"] = Tensor.FromArray(labeledTargets, [labeledTargets.Length / Outputs, Outputs], DType.Float32),
            ["unlabeled_logits"] = unlabeled,
            ["unlabeled_targets"] = Tensor.FromArray(unlabeledTargets, [unlabeledTargets.Length / Outputs, Outputs], DType.Float32),
        }));
    }

    /// <summary>The margin ranking loss over the pairs of a batch of scores (N, 1) with different targets; 0 if there is none.</summary>
    private Tensor ComputeRanking(Tensor output, ReadOnlySpan<double> targets)
    {
        if (output.Shape.Rank != 2 || output.Shape[1] != 1 || output.Shape[0] != targets.Length)
        {
            throw new LossArgumentException(LossErrorCode.InvalidShape, $"{Descriptor.Name}: scores {output.Shape} do not match {targets.Length} targets");
        }
        var (first, second, order) = BatchMining.Pairs(targets, PairRule.Order);
        if (first.Length == 0) return 0 * Ops.Sum(output);
        return Scalar(Loss.Apply(new Dictionary<string, Tensor>
        {
            ["input1"] = Ops.Reshape(BatchMining.Rows(output, first), -1),
            ["input2"] = Ops.Reshape(BatchMining.Rows(output, second), -1),
            ["target"] = Tensor.FromArray(order, [order.Length], DType.Float32),
        }));
    }
}
