using LossLab.Autograd;
using LossLab.Data;
using LossLab.Losses.Core;
using LossLab.Metrics;
using LossLab.Nn;
using LossLab.Optim;

namespace LossLab.Training;

/// <summary>One epoch of the history: the mean training loss (data term and penalty), validation loss and metrics.</summary>
public sealed record EpochRecord(int Epoch, double LearningRate, double TrainLoss, double Penalty, double ValidationLoss, IReadOnlyDictionary<string, double> Validation);

/// <summary>
/// The outcome of a run. <see cref="BestEpoch"/> is the epoch with the lowest monitored loss (validation, or training
/// without a validation split; 0 if none was finite); <see cref="KeptEpoch"/> is the epoch whose weights the model
/// holds: the best with early stopping or when the run ended early, else the last.
/// </summary>
public sealed record TrainingResult(Model Model, IReadOnlyList<EpochRecord> History, IReadOnlyDictionary<string, double> Test, int BestEpoch, int KeptEpoch, string StopReason, LossBinding Binding);

/// <summary>
/// Trains an MLP on a data set with a catalog or custom loss: seeded split, scaling fitted on the training rows,
/// mini-batches, optimizer and schedule, penalties, clipping, early stopping and cancellation (both keep the best
/// weights). The same seed gives the same history and weights, bit for bit.
/// </summary>
public static partial class Trainer
{
    public static TrainingResult Train(Dataset data, TrainingOptions options, LossRegistry? registry = null, IProgress<EpochRecord>? progress = null, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(options);
        Split split = Splitter.Stratified(data, options.TestFraction, options.ValidationFraction, options.Seed);
        return Train(data.Subset(split.Train), data.Subset(split.Validation), data.Subset(split.Test), options, registry, progress, cancel);
    }

    /// <summary>Trains on given splits (the lab corrupts training targets and keeps the test split clean).</summary>
    /// <summary>
    /// The numeric options in their domains: a NaN dropout or penalty would otherwise be taken as none (NaN &gt; 0 is
    /// false) or turn every weight NaN in the first step, and a clip norm ≤ 0 would scale the gradient by ≤ 0.
    /// </summary>
    private static void CheckNumbers(TrainingOptions o)
    {
        static void Require(bool ok, string message)
        {
            if (!ok) throw new ArgumentException(message);
        }
        Require(o.LearningRate > 0 && double.IsFinite(o.LearningRate), $"the learning rate must be a finite number > 0, got {o.LearningRate}");
        Require(o.Dropout >= 0 && o.Dropout < 1, $"the dropout probability must be in [0, 1), got {o.Dropout}");
        foreach (var (name, v) in new[] { ("L1 penalty", o.L1), ("L2 penalty", o.L2), ("weight decay", o.WeightDecay) })
            Require(v >= 0 && double.IsFinite(v), $"the {name} must be a finite number ≥ 0, got {v}");
        Require(o.Momentum >= 0 && o.Momentum < 1, $"the momentum must be in [0, 1), got {o.Momentum}");
        if (o.ClipNorm is double clip) Require(clip > 0 && !double.IsNaN(clip), $"the gradient clipping norm must be > 0, got {clip}");
        if (o.EarlyStopping is int patience) Require(patience >= 1, $"the early-stopping patience must be at least 1 epoch, got {patience}");
        Require(o.BatchSize >= 1, $"the batch size must be at least 1, got {o.BatchSize}");
        Require(o.EmbeddingDimension >= 1, $"the embedding dimension must be at least 1, got {o.EmbeddingDimension}");
        Require(o.LabeledFraction > 0 && o.LabeledFraction <= 1, $"the labelled fraction must be in (0, 1], got {o.LabeledFraction}");
    }

    public static TrainingResult Train(Dataset train, Dataset validation, Dataset test, TrainingOptions options, LossRegistry? registry = null, IProgress<EpochRecord>? progress = null, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(validation);
        ArgumentNullException.ThrowIfNull(test);
        ArgumentNullException.ThrowIfNull(options);
        if (train.Rows == 0) throw new ArgumentException("the training split is empty", nameof(train));
        if (options.Epochs < 1) throw new ArgumentOutOfRangeException(nameof(options), $"epochs must be at least 1, got {options.Epochs}");
        CheckNumbers(options);
        registry ??= LossRegistry.Default;
        var random = new Random(options.Seed);
        // --labeled-fraction: only a stratified share of the training rows keeps its labels. A supervised loss trains on
        // those alone (the baseline); a semi-supervised one (FixMatch) also sees the others, without their labels.
        Dataset? unlabeled = null;
        if (options.LabeledFraction != 1)
        {
            var (keep, hide) = SemiSupervisedBatches.Split(train, options.LabeledFraction, options.Seed);
            (train, unlabeled) = (train.Subset(keep), train.Subset(hide));
        }
        if (options.Oversample && train.Task.IsSingleLabel()) train = Oversample(train, random);
        Standardizer scaler = Standardizer.Fit(train);
        Dataset tr = scaler.Transform(train), va = scaler.Transform(validation), te = scaler.Transform(test);

        string lossName = options.Loss ?? train.Task switch
        {
            TaskKind.Regression => "mse_loss",
            TaskKind.Multilabel => "binary_cross_entropy_with_logits",
            _ => "cross_entropy",
        };
        LossDescriptor descriptor = registry.Get(lossName);
        double[]? classWeights = train.Task == TaskKind.Multilabel
            ? LossBinding.LabelWeights(options.ClassWeights, train)
            : LossBinding.ClassWeights(options.ClassWeights, train.Targets, train.Classes);
        var binding = new LossBinding(descriptor, TaskFit.WithDataOptions(descriptor, options.LossOptions, train), train.Task, train.Classes, classWeights, options.EmbeddingDimension);
        binding.RequireUnlabeledRows(options.LabeledFraction, unlabeled?.Rows ?? -1);
        Dataset? un = binding.SemiSupervised ? scaler.Transform(unlabeled!) : null;
        if (binding.LogLink && train.Targets.Concat(validation.Targets).Concat(test.Targets).Where(t => t < 0).Take(1).ToArray() is [double negative])
        {
            throw new LossArgumentException(LossErrorCode.InvalidValue,
                $"{descriptor.Name} models counts, so its targets must be ≥ 0; the target column holds {negative.ToString(System.Globalization.CultureInfo.InvariantCulture)}");
        }
        // CORAL's thresholds share one weight vector: the network is built with one output, then its last layer gets K − 1 biases.
        Sequential network = binding.Ordinal == OrdinalHead.Cumulative
            ? Mlp.WithSharedThresholds(Mlp.Build(train.Columns, options.Hidden, 1, options.Activation, random.Next(), options.Dropout), binding.Outputs)
            : Mlp.Build(train.Columns, options.Hidden, binding.Outputs, options.Activation, random.Next(), options.Dropout);
        if (train.Task == TaskKind.Regression && !binding.PairwiseRanking) StartAtTheMarginal(network, train.Targets, binding.VarianceName is not null, binding.LogLink);
        var model = new Model(network, train.Task, train.ClassNames, scaler, train.FeatureNames, train.TargetName, lossName, binding.Outputs)
        {
            RegressionHead = binding.Head,
            OrdinalHead = binding.Ordinal,
            BinEdges = train.BinEdges,
            LossOptions = binding.Options,
        };

        binding.InitializeParameters(new Random(unchecked(options.Seed * 7919 + 17)));   // ArcFace's W, Proxy Anchor's proxies..., from the run's seed
        IReadOnlyList<Parameter> parameters = [.. network.Parameters, .. binding.Parameters];
        IOptimizer optimizer = CreateOptimizer(options);
        ISchedule schedule = CreateSchedule(options);
        OptimizerState state = optimizer.Init([.. parameters.Select(p => p.Value.Length)]);
        var loader = new BatchLoader(tr.Rows, options.BatchSize, random.Next());

        var history = new List<EpochRecord>();
        double best = double.PositiveInfinity;
        int bestEpoch = -1, sinceBest = 0;
        double[][]? bestWeights = null;
        string reason = "completed";
        Dropout[] dropouts = [.. network.Layers.OfType<Dropout>()];
        string? fingerprint = options.CheckpointPath is null ? null : TrainingCheckpoint.FingerprintOf(options, train);
        if (options.CheckpointEvery < 1) throw new ArgumentOutOfRangeException(nameof(options), $"checkpoint interval must be at least 1 epoch, got {options.CheckpointEvery}");
        int start = 0;
        string? finished = null;
        if (options.Resume && options.CheckpointPath is not null && File.Exists(options.CheckpointPath))
        {
            TrainingCheckpoint c = TrainingCheckpoint.Load(options.CheckpointPath);
            if (c.Fingerprint != fingerprint)
            {
                throw new InvalidDataException($"{options.CheckpointPath} belongs to another run (different options or data); delete it or train without resuming");
            }
            for (int p = 0; p < parameters.Count; p++) parameters[p].Value.Assign(c.Parameters[p]);
            state = c.Optimizer;
            history.AddRange(c.History);
            (best, bestEpoch, sinceBest, bestWeights) = (c.Best, c.BestEpoch, c.SinceBest, c.BestWeights);
            // Replay the random streams: the shuffles of the completed epochs and the dropout draws.
            for (int e = 0; e < c.Epoch; e++) foreach (int[] _ in loader.Epoch()) { }
            for (int d = 0; d < dropouts.Length; d++) dropouts[d].Skip(c.DropoutDraws[d]);
            start = c.Epoch;
            finished = c.StopReason;
            if (finished is not null) reason = finished;
        }
        void Checkpoint(int epochsDone, string? stop)
        {
            if (options.CheckpointPath is null) return;
            new TrainingCheckpoint
            {
                Fingerprint = fingerprint!, Epoch = epochsDone, StopReason = stop,
                Parameters = [.. parameters.Select(p => p.Value.ToArray())], Optimizer = state, History = [.. history],
                Best = best, BestEpoch = bestEpoch, SinceBest = sinceBest, BestWeights = bestWeights,
                DropoutDraws = [.. dropouts.Select(d => d.Draws)],
            }.Save(options.CheckpointPath);
        }
        int epochs = start;
        for (int epoch = start; finished is null && epoch < options.Epochs; epoch++)
        {
            if (cancel.IsCancellationRequested) { reason = "cancelled"; break; }
            double rate = schedule.Rate(options.LearningRate, epoch);
            double lossSum = 0, penaltySum = 0;
            int[][] batches = [.. loader.Epoch()];
            int[][]? unlabeledBatches = un is null ? null : SemiSupervisedBatches.UnlabeledBatches(un.Rows, batches.Length, options.Seed, epoch);
            for (int k = 0; k < batches.Length; k++)
            {
                Dataset b = tr.Subset(batches[k]);
                Tensor output = model.Forward(b.Features, b.Rows, training: true);
                Tensor loss = unlabeledBatches is null ? binding.Compute(output, b.Targets) : SemiSupervisedBatches.Step(model, binding, output, b, un!.Subset(unlabeledBatches[k]), options.Seed, epoch, k,
                        Math.Min(1, (epoch + (k + 1.0) / batches.Length) / (SemiSupervisedBatches.RampUpShare * options.Epochs)));
                Tensor? penalty = Penalty(parameters, options.L1, options.L2);
                Tensor total = penalty is null ? loss : loss + penalty;
                total.Backward();
                double[][] grads = [.. parameters.Select(p => p.Value.Grad?.ToArray() ?? new double[p.Value.Length])];
                if (options.ClipNorm is double clip) Clipping.ClipByGlobalNorm(grads, clip);
                double[][] values = [.. parameters.Select(p => p.Value.ToArray())];
                (double[][] updates, state) = optimizer.Update(grads, state, values, rate);
                for (int p = 0; p < parameters.Count; p++)
                {
                    for (int i = 0; i < values[p].Length; i++) values[p][i] += updates[p][i];
                    parameters[p].Value.Assign(values[p]);
                    parameters[p].Value.ZeroGrad();
                }
                lossSum += loss.Item() * b.Rows;
                penaltySum += (penalty?.Item() ?? 0) * b.Rows;
            }
            double trainLoss = lossSum / tr.Rows;
            FitEmbeddingHead(model, binding, tr);
            var (validationLoss, metrics) = va.Rows > 0 ? Evaluate(model, binding, va) : (double.NaN, new Dictionary<string, double>());
            var record = new EpochRecord(epoch + 1, rate, trainLoss, penaltySum / tr.Rows, validationLoss, metrics);
            history.Add(record);
            progress?.Report(record);
            epochs = epoch + 1;
            if (!double.IsFinite(trainLoss)) { reason = $"diverged: the training loss is {trainLoss} at epoch {epoch + 1} (a lower learning rate or gradient clipping may help)"; break; }
            double monitored = va.Rows > 0 ? validationLoss : trainLoss;
            if (monitored < best)
            {
                (best, bestEpoch, sinceBest) = (monitored, epoch + 1, 0);
                bestWeights = [.. parameters.Select(p => p.Value.ToArray())];
            }
            else if (options.EarlyStopping is int patience && ++sinceBest >= patience)
            {
                reason = $"early stopping: no lower {(va.Rows > 0 ? "validation" : "training")} loss for {patience} epochs";
                break;
            }
            if (epochs % options.CheckpointEvery == 0 && epochs < options.Epochs) Checkpoint(epochs, null);
        }
        // Final state: finished runs record why they ended; a cancelled one is resumable from its last full epoch.
        if (finished is null) Checkpoint(epochs, reason == "cancelled" ? null : reason);
        bool keepBest = options.EarlyStopping is not null || reason != "completed";
        if (keepBest && bestWeights is not null)
        {
            for (int p = 0; p < parameters.Count; p++) parameters[p].Value.Assign(bestWeights[p]);
        }
        FitEmbeddingHead(model, binding, tr);
        if (binding.Parameters is [Parameter learned] && binding.Loss is IClassParameterLoss owner)
        {
            model.ClassParameters = new ClassParameters(owner.ParameterInput, learned.Value.Shape[0], learned.Value.Shape[1], [.. learned.Value.ToArray()]);
        }
        var (_, testMetrics) = te.Rows > 0 ? Evaluate(model, binding, te) : (double.NaN, new Dictionary<string, double>());
        int bestOrNone = Math.Max(bestEpoch, 0);
        return new TrainingResult(model, history, testMetrics, bestOrNone, keepBest && bestWeights is not null ? bestEpoch : history.Count, reason, binding);
    }

    /// <summary>The loss and every metric of a model on standardized data (no dropout).</summary>
    /// <exception cref="InvalidOperationException">The loss cannot score this model's outputs (<see cref="Incompatibility"/>).</exception>
    public static (double Loss, Dictionary<string, double> Metrics) Evaluate(Model model, LossBinding binding, Dataset standardized)
    {
        Tensor output = Scored(model, binding, standardized);
        double loss = binding.Compute(output, standardized.Targets).Item();
        double[]? variances = binding.VarianceName is null ? null : LossBinding.Variance(output).ToArray();
        double[] predictions = model.Embedding is EmbeddingHead head ? head.Scores(output.ToArray()) : binding.Predict(output);
        var metrics = Metrics(predictions, standardized, variances, model.Calibrated);
        metrics["loss"] = loss;
        return (loss, metrics);
    }

    /// <summary>
    /// The loss alone of a model on standardized data (no dropout), as <see cref="Evaluate"/> computes it. A binding of
    /// a loss with class parameters (ArcFace's W...) that has none takes the model's saved ones first
    /// (<see cref="LossBinding.UseSavedParameters"/>).
    /// </summary>
    public static double LossOf(Model model, LossBinding binding, Dataset standardized)
        => binding.Compute(Scored(model, binding, standardized), standardized.Targets).Item();

    /// <summary>
    /// Why <paramref name="binding"/>'s loss cannot score <paramref name="model"/>'s outputs, or null when it can: an
    /// embedding against class scores (either way), log-rates or values against the wrong regression head, or another
    /// output width.
    /// </summary>
    public static string? Incompatibility(Model model, LossBinding binding)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(binding);
        if (binding.Embedding != EmbeddingInputs.None && model.Embedding is null) return "it scores embeddings; the model outputs class scores";
        if (binding.Embedding == EmbeddingInputs.LabelsAndClassWeights && binding.Parameters.Count == 0)
            return $"its class parameters ({(binding.Loss as IClassParameterLoss)?.ParameterInput ?? "W"}) train with the model, and this model saved none it can take (LossBinding.UseSavedParameters)";
        if (binding.Embedding == EmbeddingInputs.None && model.Embedding is not null) return "the model outputs an embedding, not class scores";
        if (model.Task == TaskKind.Regression && binding.LogLink && model.RegressionHead != RegressionHead.LogRate) return "it scores log-rates; the model does not predict them";
        if (model.RegressionHead == RegressionHead.Score && !binding.PairwiseRanking) return "it scores values; the model's outputs only order the rows";
        if (binding.Outputs != model.Outputs && !(model.HasVariance && binding.Outputs == 1)) return $"needs {binding.Outputs} outputs; the model has {model.Outputs}";
        if (binding.Ordinal != model.OrdinalHead)
        {
            static string Reads(OrdinalHead h) => h switch
            {
                OrdinalHead.Cumulative => "CORAL's cumulative threshold logits",
                OrdinalHead.Conditional => "CORN's conditional threshold logits",
                _ => "class logits",
            };
            return $"it reads the outputs as {Reads(binding.Ordinal)}; the model's are {Reads(model.OrdinalHead)}";
        }
        return null;
    }

    /// <summary>The model's outputs on standardized rows as the binding's loss reads them, after the compatibility check.</summary>
    private static Tensor Scored(Model model, LossBinding binding, Dataset standardized)
    {
        ArgumentNullException.ThrowIfNull(standardized);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(binding);
        // A loss with class parameters and none of its own (a fresh binding for a loaded model) borrows the model's
        // saved ones, as evaluate does; if they do not fit, the refusal says why.
        string? refused = binding.Embedding == EmbeddingInputs.LabelsAndClassWeights && binding.Parameters.Count == 0 && model.Embedding is not null
            ? binding.UseSavedParameters(model) : null;
        if ((refused ?? Incompatibility(model, binding)) is string why)
        {
            throw new InvalidOperationException($"{binding.Descriptor.Name} cannot score this model: {why} (trained with {model.LossName})");
        }
        Tensor output = model.Forward(standardized.Features, standardized.Rows);
        // A model with a variance scored by a loss of the mean alone (mse_loss...): its first column is the prediction.
        if (model.HasVariance && binding.VarianceName is null && binding.Outputs == 1) output = LossBinding.Column(output, 0);
        // A count model scored by a loss of values (mse_loss...): its predictions are the rates, exp(output).
        if (model.RegressionHead == RegressionHead.LogRate && !binding.LogLink) output = Ops.Exp(output);
        return output;
    }

    /// <summary>
    /// A metric-learning model's class centres: the loss's learned class vectors when it has them (ArcFace's W, Proxy
    /// Anchor's proxies: its logits compare an embedding with those), otherwise the means of its embeddings of the
    /// (standardized) training rows, without dropout.
    /// </summary>
    private static void FitEmbeddingHead(Model model, LossBinding binding, Dataset standardizedTrain)
    {
        if (binding.Embedding == EmbeddingInputs.None) return;
        if (binding.Loss is IClassParameterLoss { ClassifiesByCosine: true } owner && binding.Parameters is [Parameter learned])
        {
            model.Embedding = EmbeddingHead.FromClassVectors(owner.ClassVectors(learned.Value.ToArray(), binding.Outputs, standardizedTrain.Classes), binding.Outputs);
            return;
        }
        double[] embeddings = model.Forward(standardizedTrain.Features, standardizedTrain.Rows).ToArray();
        model.Embedding = EmbeddingHead.Fit(embeddings, binding.Outputs, standardizedTrain.Targets, standardizedTrain.Classes, binding.Metric);
    }

    private static Tensor? Penalty(IReadOnlyList<Parameter> parameters, double l1, double l2)
    {
        if (l1 == 0 && l2 == 0) return null;
        Tensor? total = null;
        foreach (Parameter p in parameters.Where(p => p.IsWeight))
        {
            Tensor term = (l1 != 0 ? l1 * Ops.Sum(Ops.Abs(p.Value)) : null) is Tensor a
                ? (l2 != 0 ? a + l2 * Ops.Sum(p.Value * p.Value) : a)
                : l2 * Ops.Sum(p.Value * p.Value);
            total = total is null ? term : total + term;
        }
        return total;
    }

    private static Dataset Oversample(Dataset train, Random random)
    {
        var byClass = Enumerable.Range(0, train.Rows).GroupBy(i => (int)train.Targets[i]).ToDictionary(g => g.Key, g => g.ToList());
        int largest = byClass.Values.Max(g => g.Count);
        var rows = new List<int>();
        foreach (var (_, group) in byClass.OrderBy(kv => kv.Key))
        {
            rows.AddRange(group);
            for (int k = group.Count; k < largest; k++) rows.Add(group[random.Next(group.Count)]);
        }
        return train.Subset(rows);
    }

    public static IOptimizer CreateOptimizer(TrainingOptions o) => o.Optimizer.ToLowerInvariant() switch
    {
        "sgd" => new Sgd(0, false, o.WeightDecay),
        "momentum" => new Sgd(o.Momentum, false, o.WeightDecay),
        "nesterov" => new Sgd(o.Momentum, true, o.WeightDecay),
        "rmsprop" => new RmsProp(WeightDecay: o.WeightDecay),
        "adam" => new Adam(WeightDecay: o.WeightDecay),
        "adamw" => new Adam(WeightDecay: o.WeightDecay == 0 ? 0.01 : o.WeightDecay, Decoupled: true),
        _ => throw new ArgumentException($"unknown optimizer '{o.Optimizer}'; choose sgd, momentum, nesterov, rmsprop, adam or adamw", nameof(o)),
    };

    public static ISchedule CreateSchedule(TrainingOptions o) => o.Schedule.ToLowerInvariant() switch
    {
        "constant" => new ConstantSchedule(),
        "step" => new StepSchedule(Math.Max(1, o.Epochs / 3)),
        "cosine" => new CosineSchedule(o.Epochs),
        "warmup" => new WarmupSchedule(Math.Max(1, o.Epochs / 20), new CosineSchedule(o.Epochs - Math.Max(1, o.Epochs / 20))),
        _ => throw new ArgumentException($"unknown schedule '{o.Schedule}'; choose constant, step, cosine or warmup", nameof(o)),
    };

    /// <summary>
    /// A regression model starts from the training targets' mean (its head's bias; a count model from its log), and a
    /// model with a variance output also from their log-variance, so that neither has to travel from 0 at the optimizer's step size. Diabetes's
    /// targets have a mean of 152 and a log-variance of 8.7: from 0, a 40-epoch run at Adam's default 0.001 ended
    /// below the mean (R² −0.09), and until the variance arrives every residual looks like an outlier to the loss.
    /// </summary>
    private static void StartAtTheMarginal(Sequential network, double[] targets, bool variance, bool logLink)
    {
        Linear head = network.Layers.OfType<Linear>().Last();
        double mean = targets.Average();
        bool single = head.Bias.DType == Numerics.DType.Float32;
        // A count model's output is a log-rate: it starts at the log of the mean count (exp(152) would overflow).
        double start = logLink ? Math.Log(Math.Max(mean, 1e-12)) : mean;
        head.Bias.Data[0] = single ? (float)start : start;
        if (!variance) return;
        double spread = targets.Sum(t => (t - mean) * (t - mean)) / targets.Length;
        double logVariance = Math.Log(Math.Max(spread, 1e-12));
        head.Bias.Data[1] = single ? (float)logVariance : logVariance;
    }
}
