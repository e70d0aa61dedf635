using LossLab.Data;
using LossLab.Losses.Core;

namespace LossLab.Training;

/// <summary>What a loss's prediction input holds, and so what the trainer feeds it from the model's raw outputs.</summary>
public enum PredictionForm
{
    /// <summary>Raw scores (logits, margins, values): the model's outputs as they are.</summary>
    Scores,

    /// <summary>Probabilities: the softmax of the outputs over the classes, or the sigmoid of each.</summary>
    Probabilities,

    /// <summary>Log-probabilities: the log-softmax over the classes, or log σ of each.</summary>
    LogProbabilities,
}

/// <summary>
/// Which catalog losses can train a model on which data, and in what form they take its outputs. A model always
/// outputs raw scores, and its prediction head turns them into probabilities (softmax, or sigmoid per output); a loss
/// of probabilities (BCELoss, Keras's losses without from_logits, Dice...) or of log-probabilities (NLL, KL) is fed
/// that same transform, so that what it trains is what the head predicts. A loss that cannot mean anything on the
/// data is refused with the reason, instead of training a model that predicts nonsense.
/// </summary>
public static class TaskFit
{
    /// <summary>Losses whose prediction input is probabilities in [0, 1] whatever their options say.</summary>
    private static readonly HashSet<string> ProbabilityInputs =
    [
        "BinaryCrossEntropy", "KerasCategoricalGeneralizedCrossEntropy", "KerasDice", "KerasTversky", "KerasIoU",
        "JensenShannonDivergence", "KerasKLDivergence", "MccLoss", "TotalVariationDistance", "WeightedKappaLoss",
    ];

    /// <summary>Losses whose prediction input is log-probabilities.</summary>
    private static readonly HashSet<string> LogProbabilityInputs =
        ["NllLoss", "KLDivergence", "OptaxKLDivergence", "ConvexKLDivergence"];

    /// <summary>Losses over a class axis even on binary data: they get two outputs and one-hot targets there.</summary>
    private static readonly HashSet<string> ClassAxisLosses = ["OptaxDiceLoss", "OptaxGeneralizedDiceLoss"];

    /// <summary>Divergences whose terms penalize both p &gt; t and p &lt; t element by element, so that they fit independent labels.</summary>
    private static readonly HashSet<string> PerLabelDistributions = ["ConvexKLDivergence", "JensenShannonDivergence"];

    /// <summary>Options that switch a loss from raw scores to probabilities when false.</summary>
    /// <summary>How to give a data set's classes an order, for the refusal of an ordinal loss on classes without one.</summary>
    private const string DeclareAnOrder = "use --task ordinal for numeric ranks (ratings, grades), --bins K to cut a numeric target into K ordered classes, "
        + "or cross_entropy for unordered classes";

    private static readonly string[] ActivationOptions = ["from_logits", "apply_softmax", "apply_sigmoid", "use_logits"];

    /// <summary>
    /// Throws a <see cref="LossArgumentException"/> naming why <paramref name="descriptor"/> cannot train a model of
    /// <paramref name="task"/>, if it cannot: box and sequence losses (training fits one target column per row), a
    /// similarity to maximize, a loss of pair distances, a classification loss on a numeric target, a count loss
    /// on class labels, a cosine loss on a one-column target. Custom expressions are the user's to judge.
    /// </summary>
    public static void Check(LossDescriptor descriptor, TaskKind task)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        if (descriptor.Family == LossFamily.Custom) return;
        string name = descriptor.Name;
        string Refuse(string why) => throw new LossArgumentException(LossErrorCode.UnsupportedOption, $"{name} {why}");
        if (descriptor.Inputs.Any(i => i.Name.StartsWith("boxes", StringComparison.Ordinal)))
        {
            Refuse("compares boxes (N, 4); training fits one target column per row, so there are no boxes to compare");
        }
        if (descriptor.Task == LossTask.Sequence)
        {
            Refuse("needs sequences (batch, frames, classes) and their label sequences; training fits one target per row");
        }
        switch (name)
        {
            case "CosineSimilarity":
                Refuse("is a similarity to maximize (+1 when parallel), not a loss to minimize; train with cosine_distance");
                break;
            case "HingeEmbeddingLoss":
                Refuse("scores distances between pairs against ±1 similarity labels, not a classifier's outputs; for a margin "
                    + "classifier use hinge_loss or soft_margin_loss, for an embedding cosine_embedding_loss or contrastive_loss");
                break;
            case "BarlowTwinsLoss" or "VicRegLoss":
                Refuse("compares the embeddings of two augmented views of each row (self-supervised, no labels); training here fits "
                    + "a target column. Use it from C# with your own views, or train an embedding from labels with supcon_loss");
                break;
            case "DistillationLoss":
                Refuse("matches a student's outputs to a teacher model's logits, which a data set's target column does not hold; "
                    + "train the teacher, then distill from C# with the teacher's logits as teacher_logits");
                break;
            case "GeneralizedJsdLoss" or "KerasLogitsDistillation" or "KerasFeatureDistillation":
                Refuse("matches a student's outputs to a teacher model's, which a data set's target column does not hold; "
                    + "train the teacher, then distill from C# with both models' outputs");
                break;
            case "LinearJsdLoss" or "LinearCosineSimilarityLoss":
                Refuse("distills a teacher model's output layer into a student's (both hidden states and vocabulary matrices are inputs), "
                    + "which a data set's target column does not hold; train with cross_entropy, or distill from C# with a trained teacher");
                break;
            case "DpoLoss":
                Refuse("compares a policy's and a reference model's log-probabilities of chosen and rejected responses (language-model "
                    + "preference pairs); training here fits one target per row. To order rows by a numeric target use margin_ranking_loss");
                break;
            case "AdaptiveRobustLoss":
                Refuse("learns its shape α and scale c with the model (the inputs alpha and scale are parameters, not data); train with "
                    + "general_robust_loss at a fixed alpha and scale, or fit α and c from C# with the loss's gradients");
                break;
            case "CenterLoss":
                Refuse("pulls each embedding to its class centre and nothing pushes the classes apart: trained alone, embeddings and "
                    + "centres collapse to one point at zero loss. Wen et al. add it, weighted, to softmax cross-entropy; do that from C# "
                    + "(its centers input is the parameter), or train a metric loss that separates classes (arcface_loss, proxy_anchor_loss)");
                break;
            case "SinkhornDivergence" or "KernelMmdLoss":
                Refuse("compares two clouds of points (a model's samples with the data's); training fits one target per row");
                break;
            case "GrpoLoss":
                Refuse("is a policy-gradient loss over a language model's token log-probabilities and the advantages of its sampled "
                    + "completions; training here fits one target per row");
                break;
            case "SimPoLoss" or "OrpoLoss" or "KtoLoss" or "CpoLoss":
                Refuse("compares a language model's average log-probabilities of chosen and rejected responses (preference pairs); "
                    + "training here fits one target per row. To order rows by a numeric target use margin_ranking_loss");
                break;
            case "LinearCrossEntropyLoss":
                Refuse("includes the classifier's last linear layer (lin_weight, bias) in the loss, and the trained MLP has its own; "
                    + "train with cross_entropy, the same loss on the model's logits (its options: label_smoothing, z_loss, ignore_index)");
                break;
            case "CoSENTLoss" or "AnglELoss" or "CosineSimilarityLoss":
                Refuse("ranks sentence pairs by their gold similarity scores (semantic textual similarity), and a data set's rows are "
                    + "single samples, not scored pairs; to train embeddings from labels use contrastive_loss or supcon_loss");
                break;
            case "SoftmaxLoss":
                Refuse("classifies sentence pairs (u, v) with a classifier of its own over [u, v, |u − v|], and a data set's rows are "
                    + "single samples; train a classifier with cross_entropy, or embeddings from labels with supcon_loss");
                break;
            case "GistEmbedLoss":
                Refuse("takes a guide model's embeddings of every text beside the trained model's, to leave out false negatives, and "
                    + "a data set holds no guide model; train from labels with supcon_loss or multiple_negatives_ranking_loss");
                break;
            case "QualityFocalLoss":
                Refuse("scores a dense detector's boxes against their quality (the IoU of each predicted box, a score per box beside its "
                    + "class), which a data set's rows do not have; for a class label use sigmoid_focal_loss or varifocal_loss");
                break;
            case "DistributionFocalLoss":
                Refuse("learns a box edge's distance as a distribution over integer bins 0..n, with the distance in [0, n); a regression "
                    + "target of any range is not such a distance. Use it from C# with a detector's bins, or train with mse_loss or huber_loss");
                break;
            case "OrdinalEcocDistanceLoss":
                Refuse("takes one sigmoid probability per threshold (K − 1 outputs, dlordinal's OBDECOCModel), a head the trained MLP does not build; "
                    + "train coral_loss (K − 1 threshold logits, --task ordinal) for the same cumulative code");
                break;
            case "CoralLoss" or "CornLoss" when task != TaskKind.Ordinal:
                Refuse("is an ordinal loss (K − 1 threshold logits for K ordered ranks), and the classes here are not declared ordered: " + DeclareAnOrder);
                break;
            case "SquaredEmdLoss" or "ClassDistanceWeightedCrossEntropy" or "WeightedKappaLoss" or "SordLoss" or "BinomialCrossEntropyLoss"
                or "PoissonCrossEntropyLoss" or "ExponentialCrossEntropyLoss" or "TriangularCrossEntropyLoss" or "GeometricLoss" or "BetaCrossEntropyLoss"
                or "GeneralTriangularCrossEntropyLoss" or "MceAndWkLoss" or "SlaceLoss" when task != TaskKind.Ordinal:
                Refuse("is an ordinal loss: it reads how far a class lies from the true one (|j − y| ranks apart), and the classes here are not declared "
                    + "ordered, so their distances mean nothing: " + DeclareAnOrder);
                break;
            case "ClipLoss" or "SigLipLoss":
                Refuse("contrasts the image and text embeddings of matched pairs (two encoders, two modalities), and a data set's rows "
                    + "are single samples with a class label; use it from C# with both encoders' features, or train embeddings from labels "
                    + "with supcon_loss or multiple_negatives_ranking_loss");
                break;
            case "ListMleLoss":
                Refuse("is the likelihood of a full ranking of each query's documents, and a class label ranks only one class of a row "
                    + "first (the others tie); train with list_net_loss or optax.ranking_softmax_loss, or cross_entropy");
                break;
            case "FlopsLoss":
                Refuse("is a sparsity regularizer of sparse (vocabulary-sized) embeddings and uses no labels; sentence-transformers' "
                    + "SpladeLoss adds it to a ranking loss. Train embeddings from labels with supcon_loss or multiple_negatives_ranking_loss");
                break;
            case "GlobalOrthogonalRegularizationLoss":
                Refuse("is a regularizer that spreads a batch's embeddings apart and uses no labels, so alone it learns nothing about "
                    + "the classes; sentence-transformers adds it to a main loss. Train embeddings from labels with supcon_loss or multiple_negatives_ranking_loss");
                break;
            case "MarginMSELoss":
                Refuse("distills a teacher's relevance margins between two passages of a query into a student's embeddings, and a "
                    + "data set's target column holds no teacher margins; train the student with distillation_loss on a teacher's logits");
                break;
            case "AdaptiveLogSoftmaxWithLoss":
                Refuse("includes the classifier's output layers (head.weight and the clusters' tail weights) in the loss, and the "
                    + "trained MLP has its own; train with cross_entropy, the full softmax it approximates for large vocabularies");
                break;
            case "OptaxKLDivergenceWithLogTargets":
                Refuse("takes log-probability targets, and a class label's one-hot has log 0 = −∞, which it does not accept; "
                    + "train with optax.kl_divergence or kl_div");
                break;
        }
        if (name == "MarginRankingLoss") return;   // ranks rows by a numeric target (LossBinding builds the pairs)
        bool numeric = descriptor.Task is LossTask.Regression or LossTask.CountRegression;
        if (task == TaskKind.Regression && descriptor.Task == LossTask.Ranking)
        {
            Refuse("scores the classes of each row as a list; to order rows by a numeric target use margin_ranking_loss");
        }
        if (task == TaskKind.Regression && !numeric)
        {
            Refuse($"is a {Describe(descriptor.Task)} loss: it needs class labels, and this target is numeric (regression). "
                + "For integer class codes use --task multiclass (or binary); for a numeric target use a regression loss such as mse_loss or huber_loss");
        }
        if (task == TaskKind.Regression && name is "CosineDistance" or "KerasCosineSimilarity")
        {
            Refuse("compares the directions of vectors; a one-column regression target has no direction to compare");
        }
        if (task == TaskKind.Multilabel && (NeedsClassAxis(descriptor) && !PerLabelDistributions.Contains(name) || name is "CosineDistance" or "KerasCosineSimilarity"))
        {
            Refuse("compares each row's classes with one another (a softmax, a normalization or a sum over the class axis), and multilabel "
                + "rows are independent labels; use binary_cross_entropy_with_logits, multilabel_soft_margin_loss, sigmoid_focal_loss or a Dice loss");
        }
        if (task != TaskKind.Regression && name == "KerasMeanAbsolutePercentageError")
        {
            Refuse("divides each error by its target, and a 0 label counts its error 10⁷ times (Keras's ε); on class labels use mse_loss (the Brier score) or a classification loss");
        }
        if (task != TaskKind.Regression && descriptor.Task == LossTask.CountRegression)
        {
            Refuse("is a count-regression loss (a Poisson rate against counts); this target is class labels. "
                + "Use it with --task regression on a count target, or a classification loss here");
        }
    }

    /// <summary>
    /// The options a loss takes from the training data when the user gives none: the logit-adjusted loss's class priors,
    /// LDAM's class counts and SORD's (for its proximity), all the training split's counts per class (at least 1, so that every log π and
    /// n^(−1/4) is finite).
    /// </summary>
    public static IReadOnlyDictionary<string, object?> WithDataOptions(LossDescriptor descriptor, IReadOnlyDictionary<string, object?> options, Dataset train)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(train);
        string? option = descriptor.Name switch { "LogitAdjustedLoss" => "priors", "LdamLoss" => "cls_num_list", "SordLoss" => "class_counts", _ => null };
        if (option is null || options.ContainsKey(option) || !train.Task.IsSingleLabel()) return options;
        var counts = new double[train.Classes];
        foreach (double t in train.Targets) counts[(int)t]++;
        for (int c = 0; c < counts.Length; c++) counts[c] = Math.Max(counts[c], 1);
        return new Dictionary<string, object?>(options) { [option] = Numerics.TensorData.FromArray(counts, counts.Length) };
    }

    /// <summary>
    /// The form in which <paramref name="descriptor"/> takes the model's outputs on <paramref name="task"/>: its
    /// from_logits / apply_softmax / apply_sigmoid option when it has one; probabilities for the losses of
    /// probabilities, and for regression losses on class labels (mean squared error of the probabilities is the Brier
    /// score); log-probabilities for NLL and the KL divergences; raw scores otherwise.
    /// </summary>
    public static PredictionForm FormOf(LossDescriptor descriptor, LossOptions options, TaskKind task)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        ArgumentNullException.ThrowIfNull(options);
        if (descriptor.Family == LossFamily.Custom || task == TaskKind.Regression) return PredictionForm.Scores;
        foreach (string option in ActivationOptions)
        {
            if (descriptor.Options.Any(o => o.Name == option)) return options.Bool(option) ? PredictionForm.Scores : PredictionForm.Probabilities;
        }
        if (ProbabilityInputs.Contains(descriptor.Name) || descriptor.Task == LossTask.Regression) return PredictionForm.Probabilities;
        return LogProbabilityInputs.Contains(descriptor.Name) ? PredictionForm.LogProbabilities : PredictionForm.Scores;
    }

    /// <summary>
    /// True when the loss works over a class axis (softmax-like: multiclass, distribution and list losses, and Optax's
    /// multi-class Dice), so that binary data gives it two outputs and one-hot targets rather than one output.
    /// </summary>
    public static bool NeedsClassAxis(LossDescriptor descriptor)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        return descriptor.Task is LossTask.MulticlassClassification or LossTask.Distribution or LossTask.Ranking
            || ClassAxisLosses.Contains(descriptor.Name);
    }

    /// <summary>
    /// The kinds of data <paramref name="descriptor"/> can train a model on with its default options (regression,
    /// binary, multiclass, multilabel, ordinal), by binding it to each: the trainer's own rules, not a separate list.
    /// </summary>
    public static IReadOnlyList<TaskKind> TrainsOn(LossDescriptor descriptor)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        var tasks = new List<TaskKind>();
        foreach (TaskKind task in new[] { TaskKind.Regression, TaskKind.Binary, TaskKind.Multiclass, TaskKind.Multilabel, TaskKind.Ordinal })
        {
            try
            {
                _ = new LossBinding(descriptor, new Dictionary<string, object?>(), task, task switch { TaskKind.Regression => 0, TaskKind.Binary => 2, _ => 3 }, null);
                tasks.Add(task);
            }
            catch (LossArgumentException)
            {
                // refused on this kind of data
            }
        }
        return tasks;
    }

    /// <summary>Which metric-learning input layout a loss has; None for the losses of (prediction, target).</summary>
    public static EmbeddingInputs EmbeddingInputsOf(LossDescriptor descriptor)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        if (descriptor.Task != LossTask.MetricLearning) return EmbeddingInputs.None;
        IReadOnlyList<InputSpec> i = descriptor.Inputs;
        // Optional inputs (the margin loss's learned β) stay unbound: the layout is that of the required ones.
        List<InputSpec> required = [.. i.Where(s => !s.Optional)];
        if (required.Count == 2 && required.Any(s => LossBinding.TargetNames.Contains(s.Name) && s.Kind == InputKind.Indices)) return EmbeddingInputs.Labels;
        if (i.Count == 3 && i[0].Name.StartsWith("anchor", StringComparison.Ordinal) && i[1].Name.StartsWith("positive", StringComparison.Ordinal)
            && i[2].Name.StartsWith("negative", StringComparison.Ordinal))
        {
            return EmbeddingInputs.Triplets;
        }
        if (i.Count == 3 && i[0].Name == "input1" && i[1].Name == "input2" && i[2].Name == "target") return EmbeddingInputs.Pairs;
        // sentence-transformers' pair losses with 1/0 labels: the batch's pairs, 1 for one class (LossBinding encodes them).
        if (descriptor.Name is "PairContrastiveLoss" or "OnlineContrastiveLoss") return EmbeddingInputs.Pairs;
        // A loss with learned class parameters says which input holds them (IClassParameterLoss), whatever its name.
        if (i.Count == 3 && i[0].Name == "embeddings" && i[1].Name == "labels"
            && descriptor.Create() is IClassParameterLoss owner && owner.ParameterInput == i[2].Name)
        {
            return EmbeddingInputs.LabelsAndClassWeights;
        }
        return EmbeddingInputs.None;
    }

    /// <summary>
    /// The geometry a metric-learning loss compares embeddings in: the triplet losses' Euclidean distance (or cosine
    /// distance when chosen), the contrastive, lifted-structure, margin and ranked list losses' unnormalized distance when asked, cosine for the others.
    /// </summary>
    internal static EmbeddingMetric MetricOf(string loss, LossOptions options) => loss switch
    {
        "TripletMarginLoss" or "OptaxTripletMarginLoss" => EmbeddingMetric.Euclidean,
        "TripletMarginWithDistanceLoss" => options.Choice("distance_function") == "cosine_distance" ? EmbeddingMetric.Cosine : EmbeddingMetric.Euclidean,
        "BatchAllTripletLoss" or "BatchHardTripletLoss" or "BatchSemiHardTripletLoss"
            => options.Choice("distance_metric") == "cosine_distance" ? EmbeddingMetric.Cosine : EmbeddingMetric.Euclidean,
        "PairContrastiveLoss" or "OnlineContrastiveLoss" => options.Choice("distance_metric") == "cosine_distance" ? EmbeddingMetric.Cosine : EmbeddingMetric.Euclidean,
        "ContrastiveLoss" or "LiftedStructureLoss" or "GeneralizedLiftedStructureLoss" or "MarginLoss" or "RankedListLoss"
            => options.Bool("normalize_embeddings") ? EmbeddingMetric.Cosine : EmbeddingMetric.Euclidean,
        _ => EmbeddingMetric.Cosine,
    };

    private static string Describe(LossTask task) => task switch
    {
        LossTask.BinaryClassification => "binary classification",
        LossTask.MulticlassClassification => "multi-class classification",
        LossTask.MultilabelClassification => "multi-label classification",
        LossTask.MetricLearning => "metric-learning",
        _ => task.ToString().ToLowerInvariant(),
    };
}
