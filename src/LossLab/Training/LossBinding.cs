using LossLab.Autograd;
using LossLab.Data;
using LossLab.Losses.Core;

namespace LossLab.Training;

/// <summary>How class imbalance is countered through the loss's class weights.</summary>
public enum ClassWeighting
{
    None,
    /// <summary>Inverse frequency: w_c = N / (C·n_c).</summary>
    Balanced,
    /// <summary>Effective number of samples (Cui et al., 2019): w_c ∝ (1 − β)/(1 − β^n_c), β = 0.999, scaled to Σw = C.</summary>
    Effective,
}

/// <summary>
/// Connects a catalog or custom loss to a model's output: how many outputs the model needs, how targets are
/// encoded for that loss (class indices, 0/1, ±1, one-hot, values), and which class-weight option it takes.
/// </summary>
public sealed partial class LossBinding
{
    /// <summary>Losses of ±1 labels: 0/1 targets (and one-hot rows) are mapped to −1/+1.</summary>
    private static readonly HashSet<string> SignLabels = ["SoftMarginLoss", "HingeLoss", "PerceptronLoss"];

    /// <summary>The names a loss gives its targets; the other input takes the model's output.</summary>
    internal static readonly HashSet<string> TargetNames = ["target", "targets", "labels", "label", "y_true"];

    /// <summary>The input names of a metric-learning loss, in order; Keras's circle loss gets unit-norm embeddings.</summary>
    private readonly string[] _embeddingNames = [];
    private readonly bool _unitEmbeddings;

    /// <summary>How targets are encoded and outputs shaped: sigmoid per output, log one-hot targets, ±1 labels, rates.</summary>
    private readonly bool _perOutput, _logTargets, _signTargets, _rates;

    /// <summary>A semi-supervised loss's λ_u as configured.</summary>
    private readonly double _lambdaU;

    /// <summary>Binds a loss to a task of <paramref name="classes"/> classes (or labels); <paramref name="embeddingDimension"/> is the
    /// embedding width D that a metric-learning loss trains (other losses ignore it).</summary>
    public LossBinding(LossDescriptor descriptor, IReadOnlyDictionary<string, object?> options, TaskKind task, int classes, double[]? classWeights, int embeddingDimension = 16)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        Descriptor = descriptor;
        Task = task;
        Classes = classes;
        Embedding = TaskFit.EmbeddingInputsOf(descriptor);
        if (Embedding != EmbeddingInputs.None)
        {
            // A metric-learning loss trains an embedding (N, D) from class labels; classes are read off by the
            // nearest class centre (EmbeddingHead), in the geometry the loss compares embeddings with.
            if (!task.IsSingleLabel())
            {
                throw new LossArgumentException(LossErrorCode.UnsupportedOption,
                    $"{descriptor.Name} learns an embedding from class labels: it needs a binary or multiclass target, not {task.ToString().ToLowerInvariant()}");
            }
            if (embeddingDimension < 1) throw new LossArgumentException(LossErrorCode.InvalidValue, $"the embedding dimension must be at least 1, got {embeddingDimension}");
            if (classWeights is not null)
            {
                throw new LossArgumentException(LossErrorCode.UnsupportedOption,
                    $"{descriptor.Name} learns an embedding and has no class weights; use --class-weights none, or --oversample for imbalance");
            }
            Loss = descriptor.Create(options);
            Options = options;
            _embeddingNames = [.. descriptor.Inputs.Select(i => i.Name)];
            bool labels = Embedding is EmbeddingInputs.Labels or EmbeddingInputs.LabelsAndClassWeights;
            InputName = labels ? descriptor.Inputs.First(i => !TargetNames.Contains(i.Name)).Name : _embeddingNames[0];
            TargetName = labels ? descriptor.Inputs.First(i => TargetNames.Contains(i.Name)).Name : _embeddingNames[^1];
            Metric = TaskFit.MetricOf(descriptor.Name, descriptor.ParseOptions(options));
            IndexTargets = labels;   // (embeddings, labels) losses take class indices
            // Keras's circle loss expects unit-norm embeddings (Keras puts a UnitNormalization layer before it).
            _unitEmbeddings = descriptor.Name == "KerasCircle";
            Outputs = embeddingDimension;
            return;
        }
        if (descriptor.Name == "MarginRankingLoss")
        {
            // Pairwise ranking: the model scores each row, and every pair of rows of a batch with different targets is
            // a ranking example, y = sign(t₁ − t₂). The scores order the rows; their scale means nothing.
            if (task != TaskKind.Regression)
            {
                throw new LossArgumentException(LossErrorCode.UnsupportedOption,
                    $"{descriptor.Name} learns to order rows by a numeric target: use it with a regression target, not {task.ToString().ToLowerInvariant()}");
            }
            if (classWeights is not null) throw new LossArgumentException(LossErrorCode.UnsupportedOption, $"{descriptor.Name} has no class weights");
            PairwiseRanking = true;
            Loss = descriptor.Create(options);
            Options = options;
            (InputName, TargetName) = ("input1", "target");
            Outputs = 1;
            return;
        }
        if (descriptor.Name is "FixMatchLoss" or "MixMatchLoss")
        {
            // Semi-supervised: the labeled batch's logits and labels, and an unlabeled batch (FixMatch: a weak and a
            // strong view; MixMatch: mixed rows and guessed targets), which the trainer builds from --labeled-fraction.
            // Evaluated alone (validation, test), it is the labeled term: cross-entropy.
            TaskFit.Check(descriptor, task);
            if (classWeights is not null) throw new LossArgumentException(LossErrorCode.UnsupportedOption, $"{descriptor.Name} has no class weights; use --oversample");
            SemiSupervised = IndexTargets = true;
            _lambdaU = descriptor.ParseOptions(options).Float("lambda_u");   // MixMatch's ramp-up scales it
            Loss = descriptor.Create(options);
            Options = options;
            (InputName, TargetName) = ("labeled_logits", "labeled_labels");
            Outputs = classes;
            return;
        }
        // A regression loss of (prediction, target, variance), GaussianNLL's, trains a model with a second output: the
        // log-variance. Its exponential is positive and scale-free: the targets' scale may be 1 or 10⁴ (softplus would
        // leave a variance of thousands in its linear range, where each optimizer step moves it by a few thousandths).
        bool varianceHead = descriptor.Inputs.Count == 3 && descriptor.Inputs[2].Name == "var" && TargetNames.Contains(descriptor.Inputs[1].Name);
        if (varianceHead && task != TaskKind.Regression)
        {
            throw new LossArgumentException(LossErrorCode.UnsupportedOption,
                $"{descriptor.Name} predicts a mean and a variance: it needs a regression target (use --task regression on numeric targets)");
        }
        TaskFit.Check(descriptor, task);
        if (descriptor.Inputs.Count(i => !i.Optional) != 2 && !varianceHead)
        {
            throw new LossArgumentException(LossErrorCode.UnsupportedOption,
                $"{descriptor.Name} takes {descriptor.Inputs.Count} inputs ({string.Join(", ", descriptor.Inputs.Select(i => i.Name))}); training needs a loss of (prediction, target)");
        }
        // Which input is the target: PyTorch's order is (prediction, target), Keras's (y_true, y_pred).
        int t = TargetNames.Contains(descriptor.Inputs[1].Name) || !TargetNames.Contains(descriptor.Inputs[0].Name) ? 1 : 0;
        InputName = descriptor.Inputs[1 - t].Name;
        TargetName = descriptor.Inputs[t].Name;
        VarianceName = varianceHead ? descriptor.Inputs[2].Name : null;
        InputKind targetKind = descriptor.Inputs[t].Kind;
        // multilabel_margin_loss takes each row's labels as an index list; a single-label row is a list of one.
        LabelLists = task != TaskKind.Regression && targetKind == InputKind.Indices && descriptor.Task == LossTask.MultilabelClassification;
        IndexTargets = task.IsSingleLabel() && targetKind is InputKind.Indices or InputKind.IndicesOrFloating && !LabelLists;
        if (task == TaskKind.Multilabel && targetKind is InputKind.IndicesOrFloating or InputKind.Indices && !LabelLists && descriptor.Family != LossFamily.Custom)
        {
            throw new LossArgumentException(LossErrorCode.UnsupportedOption, $"{descriptor.Name} is single-label; for multilabel data use binary_cross_entropy_with_logits, multilabel_soft_margin_loss, multilabel_margin_loss or sigmoid_focal_loss");
        }
        // CORAL and CORN output one logit per rank threshold (K − 1) and take the ranks as targets.
        Ordinal = descriptor.Name switch { "CoralLoss" => OrdinalHead.Cumulative, "CornLoss" => OrdinalHead.Conditional, _ => OrdinalHead.None };
        Outputs = Ordinal != OrdinalHead.None ? classes - 1 : task switch
        {
            TaskKind.Regression => varianceHead ? 2 : 1,
            // Binary data: one logit for the losses of a binary or per-label output, two (a class axis) for the others.
            TaskKind.Binary => (IndexTargets || LabelLists || TaskFit.NeedsClassAxis(descriptor)) && descriptor.Family != LossFamily.Custom ? 2 : 1,
            _ => classes,   // multiclass: C logits; multilabel: one logit per label
        };
        if (task == TaskKind.Binary && descriptor.Family == LossFamily.Custom) Outputs = 2;   // expressions see logits (N, 2) and indices
        var opts = new Dictionary<string, object?>(options);
        if (classWeights is not null)
        {
            if (task == TaskKind.Multilabel)
            {
                if (!descriptor.Options.Any(o => o.Name == "pos_weight"))
                {
                    throw new LossArgumentException(LossErrorCode.UnsupportedOption, $"{descriptor.Name} has no pos_weight option for per-label weights; use binary_cross_entropy_with_logits or --class-weights none");
                }
                opts["pos_weight"] = TensorData.FromArray(classWeights, classWeights.Length);
            }
            else if (descriptor.Options.Any(o => o.Name == "weight") && (Outputs == classes))
            {
                opts["weight"] = TensorData.FromArray(classWeights, classWeights.Length);
            }
            else if (descriptor.Options.Any(o => o.Name == "pos_weight") && task == TaskKind.Binary)
            {
                opts["pos_weight"] = TensorData.FromArray(new[] { classWeights[1] / classWeights[0] }, 1);
            }
            else if (descriptor.Options.Any(o => o.Name == "alpha") && task == TaskKind.Binary)
            {
                opts["alpha"] = classWeights[1] / (classWeights[0] + classWeights[1]);
            }
            else
            {
                throw new LossArgumentException(LossErrorCode.UnsupportedOption,
                    $"{descriptor.Name} has no class-weight option (weight, pos_weight or alpha); use --class-weights none or oversampling");
            }
        }
        Loss = descriptor.Create(opts);
        Options = opts;
        LossOptions parsed = descriptor.ParseOptions(opts);
        Form = Ordinal != OrdinalHead.None ? PredictionForm.Scores : TaskFit.FormOf(descriptor, parsed, task);
        // One-vs-rest losses (binary and per-label ones) take a sigmoid per output; the others a softmax over the classes.
        _perOutput = Outputs == 1 || task == TaskKind.Multilabel || descriptor.Task is LossTask.BinaryClassification or LossTask.MultilabelClassification;
        _logTargets = descriptor.Name == "KLDivergence" && parsed.Bool("log_target");
        _signTargets = SignLabels.Contains(descriptor.Name);
        // A count loss trains a log-rate: the canonical link of the Poisson likelihood, positive whatever the weights.
        LogLink = task == TaskKind.Regression && descriptor.Task == LossTask.CountRegression;
        _rates = LogLink && !(descriptor.Options.Any(o => o.Name == "log_input") && parsed.Bool("log_input"));   // a log_input loss takes log λ itself
    }

    /// <summary>How the model's outputs give rank probabilities for the ordinal losses (CORAL, CORN); None for the others.</summary>
    public OrdinalHead Ordinal { get; }

    /// <summary>True for a count-regression loss (Poisson): the model's output is a log-rate, its prediction exp(output).</summary>
    public bool LogLink { get; }

    /// <summary>True for FixMatch and MixMatch: besides the labeled batch they learn from unlabeled rows.</summary>
    public bool SemiSupervised { get; }

    /// <summary>True for MixMatch, whose batches are mixed (<see cref="ComputeMixMatch"/>); FixMatch's are two views.</summary>
    public bool MixesBatches => SemiSupervised && Descriptor.Name == "MixMatchLoss";

    /// <summary>True for the margin ranking loss: the model scores rows, and each batch's pairs of different targets train it.</summary>
    public bool PairwiseRanking { get; }

    /// <summary>What the trained model's regression output means.</summary>
    public RegressionHead Head => PairwiseRanking ? RegressionHead.Score : LogLink ? RegressionHead.LogRate : RegressionHead.Value;

    /// <summary>What the loss's prediction input receives: the model's raw outputs, their probabilities or log-probabilities.</summary>
    public PredictionForm Form { get; }

    public LossDescriptor Descriptor { get; }

    /// <summary>How a metric-learning loss takes its batch (None for every other loss).</summary>
    public EmbeddingInputs Embedding { get; }

    /// <summary>The geometry of a metric-learning loss's embeddings: how triplets are mined and classes read off.</summary>
    public EmbeddingMetric Metric { get; }

    public ILoss Loss { get; }

    public IReadOnlyDictionary<string, object?> Options { get; }

    public TaskKind Task { get; }

    public int Classes { get; }

    /// <summary>The model's output width: 1 (regression, sigmoid binary), 2 (binary with class indices; regression with a variance), C, or C − 1 rank thresholds (ordinal losses).</summary>
    public int Outputs { get; }

    public string InputName { get; }

    public string TargetName { get; }

    /// <summary>The loss's variance input (GaussianNLL's <c>var</c>), fed the exponential of the model's second output; null for a one-output regression.</summary>
    public string? VarianceName { get; }

    /// <summary>True when the loss takes class indices as targets.</summary>
    public bool IndexTargets { get; }

    /// <summary>True for multilabel_margin_loss: each row's labels as an index list padded with −1.</summary>
    public bool LabelLists { get; }

    /// <summary>The mean loss of a batch of model outputs (N, outputs) against targets, as a scalar tensor.</summary>
    public Tensor Compute(Tensor output, ReadOnlySpan<double> targets)
    {
        if (Embedding != EmbeddingInputs.None) return ComputeEmbedding(output, targets);
        if (PairwiseRanking) return ComputeRanking(output, targets);
        if (SemiSupervised) return Scalar(LabeledTerm.Apply(new Dictionary<string, Tensor> { ["input"] = output, ["target"] = EncodeTargets(targets) }));
        var inputs = new Dictionary<string, Tensor> { [TargetName] = EncodeTargets(targets) };
        if (VarianceName is not null)
        {
            inputs[InputName] = Column(output, 0);
            inputs[VarianceName] = Variance(output);
        }
        else
        {
            inputs[InputName] = Shaped(Outputs == 1 ? Ops.Reshape(output, -1) : output);
        }
        return Scalar(Loss.Apply(inputs));
    }

    /// <summary>A loss's value as the scalar the trainer minimizes: its reduced value, or the mean of its unreduced one.</summary>
    private static Tensor Scalar(Tensor value) => value.Length == 1 ? Ops.Reshape(value) : Ops.Mean(value);

    /// <summary>The model's raw outputs in the <see cref="Form"/> the loss takes (with their gradient).</summary>
    private Tensor Shaped(Tensor scores) => Form switch
    {
        PredictionForm.Probabilities => _perOutput ? Ops.Sigmoid(scores) : Ops.Softmax(scores, scores.Shape.Rank - 1),
        PredictionForm.LogProbabilities => _perOutput ? -Ops.Softplus(-scores) : Ops.LogSoftmax(scores, scores.Shape.Rank - 1),
        _ => _rates ? Ops.Exp(scores) : scores,
    };

    /// <summary>The predicted variances (N) of a model with a variance output: the exponential of its second column.</summary>
    public static Tensor Variance(Tensor output) => Ops.Exp(Column(output, 1));

    /// <summary>Column <paramref name="c"/> of outputs (N, K) as a vector (N), with its gradient.</summary>
    internal static Tensor Column(Tensor output, int c)
    {
        int n = output.Shape[0];
        var index = new int[n];
        Array.Fill(index, c);
        return Ops.Reshape(Ops.Gather(output, 1, Tensor.FromData(TensorData.FromArray(index, n, 1))), -1);
    }

    /// <summary>
    /// Probabilities (N × C; a one-output binary model gives [1 − σ, σ]; multilabel gives σ per label; an ordinal
    /// model its rank probabilities, <see cref="OrdinalRanks"/>) or regression values (N).
    /// </summary>
    /// <exception cref="InvalidOperationException">For a metric-learning loss, whose model outputs an embedding: its classes come from the model's <see cref="EmbeddingHead"/>.</exception>
    public double[] Predict(Tensor output) => Embedding == EmbeddingInputs.None
        ? Predict(output, Task, Outputs, Head, Ordinal)
        : throw new InvalidOperationException($"{Descriptor.Name} trains an embedding, not class scores: classes come from the model's nearest-centroid head (Model.Predict)");

    /// <summary>
    /// The head shared with <see cref="Model.Predict"/>: what a model's raw outputs (N, outputs) mean for its task.
    /// A regression model of two outputs has a variance; its predictions are the first column.
    /// </summary>
    internal static double[] Predict(Tensor output, TaskKind task, int outputs, RegressionHead link, OrdinalHead ordinal)
    {
        if (ordinal != OrdinalHead.None) return OrdinalRanks.Probabilities(output.ToArray(), outputs, ordinal);
        if (task == TaskKind.Regression && link == RegressionHead.LogRate) return [.. output.ToArray().Select(Math.Exp)];
        if (task == TaskKind.Regression) return outputs == 2 ? Column(output, 0).ToArray() : output.ToArray();
        double[] o = output.ToArray();
        if (task == TaskKind.Multilabel) return [.. o.Select(Numerics.Stable.Sigmoid)];
        if (outputs == 1) return [.. o.SelectMany(v => { double p = Numerics.Stable.Sigmoid(v); return new[] { 1 - p, p }; })];
        return Ops.Softmax(output, 1).ToArray();
    }

    private Tensor EncodeTargets(ReadOnlySpan<double> targets)
    {
        if (LabelLists && Task != TaskKind.Multilabel)
        {
            // A class label as a label list of one: (y, −1, −1, …).
            var one = new long[targets.Length * Outputs];
            Array.Fill(one, -1);
            for (int i = 0; i < targets.Length; i++) one[i * Outputs] = (long)targets[i];
            return Tensor.FromData(TensorData.FromArray(one, targets.Length, Outputs));
        }
        if (Task == TaskKind.Multilabel)
        {
            int rows = targets.Length / Classes;
            if (!LabelLists) return Tensor.FromArray([.. targets.ToArray().Select(t => _signTargets ? 2 * t - 1 : t)], [rows, Classes], DType.Float32);
            var lists = new long[targets.Length];
            for (int i = 0; i < rows; i++)
            {
                int k = 0;
                for (int l = 0; l < Classes; l++) if (targets[i * Classes + l] > 0) lists[i * Classes + k++] = l;
                for (; k < Classes; k++) lists[i * Classes + k] = -1;
            }
            return Tensor.FromData(TensorData.FromArray(lists, rows, Classes));
        }
        int n = targets.Length;
        if (Task == TaskKind.Regression || Ordinal == OrdinalHead.Cumulative && !IndexTargets) return Tensor.FromArray(targets.ToArray(), [n], DType.Float32);   // values, or CORAL's ranks
        if (IndexTargets) return Tensor.FromData(TensorData.FromArray(targets.ToArray().Select(t => (long)t).ToArray(), n));
        if (Outputs == 1) return Tensor.FromArray([.. targets.ToArray().Select(t => _signTargets ? 2 * t - 1 : t)], [n], DType.Float32);
        // One-hot rows: ±1 for the losses of sign labels (one-vs-rest margins), log(one-hot) = (0, −∞) for log targets.
        double off = _signTargets ? -1 : _logTargets ? double.NegativeInfinity : 0, on = _logTargets ? 0 : 1;
        var onehot = new double[n * Classes];
        Array.Fill(onehot, off);
        for (int i = 0; i < n; i++) onehot[i * Classes + (int)targets[i]] = on;
        return Tensor.FromArray(onehot, [n, Classes], DType.Float32);
    }

    /// <summary>Per-label positive weights (#negatives / #positives, or the effective-number ratio) for multilabel data.</summary>
    public static double[]? LabelWeights(ClassWeighting kind, Dataset train)
    {
        ArgumentNullException.ThrowIfNull(train);
        if (kind == ClassWeighting.None) return null;
        int[] positives = train.ClassCounts();
        return [.. positives.Select(p =>
        {
            double pos = Math.Max(p, 1), neg = Math.Max(train.Rows - p, 1);
            return kind == ClassWeighting.Balanced ? neg / pos : (1 - Math.Pow(0.999, neg)) / (1 - Math.Pow(0.999, pos));
        })];
    }

    /// <summary>Per-class weights from the training labels.</summary>
    public static double[]? ClassWeights(ClassWeighting kind, IReadOnlyList<double> labels, int classes)
    {
        if (kind == ClassWeighting.None || classes == 0) return null;
        var counts = new double[classes];
        foreach (double t in labels) counts[(int)t]++;
        var w = new double[classes];
        for (int c = 0; c < classes; c++)
        {
            double n = Math.Max(counts[c], 1);
            w[c] = kind == ClassWeighting.Balanced ? labels.Count / (classes * n) : (1 - 0.999) / (1 - Math.Pow(0.999, n));
        }
        if (kind == ClassWeighting.Effective)
        {
            double sum = w.Sum();
            for (int c = 0; c < classes; c++) w[c] *= classes / sum;
        }
        return w;
    }
}
