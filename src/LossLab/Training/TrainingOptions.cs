using LossLab.Nn;

namespace LossLab.Training;

/// <summary>Everything a training run needs besides the data; defaults train a 64-32 ReLU MLP with Adam.</summary>
public sealed record TrainingOptions
{
    /// <summary>A catalog name, alias or <c>expr:...</c>; null = mse_loss (regression), binary_cross_entropy_with_logits (multilabel), cross_entropy otherwise.</summary>
    public string? Loss { get; init; }

    public IReadOnlyDictionary<string, object?> LossOptions { get; init; } = new Dictionary<string, object?>();

    public IReadOnlyList<int> Hidden { get; init; } = [64, 32];

    /// <summary>The embedding width D that a metric-learning loss (circle, SupCon, triplet...) trains; other losses ignore it.</summary>
    public int EmbeddingDimension { get; init; } = 16;

    public Activation Activation { get; init; } = Activation.ReLU;

    public double Dropout { get; init; }

    /// <summary>sgd, momentum, nesterov, rmsprop, adam or adamw.</summary>
    public string Optimizer { get; init; } = "adam";

    public double LearningRate { get; init; } = 1e-3;

    /// <summary>Momentum of momentum/nesterov SGD.</summary>
    public double Momentum { get; init; } = 0.9;

    /// <summary>constant, step (×0.1 every third of the epochs), cosine, or warmup (5 % linear warm-up, then cosine).</summary>
    public string Schedule { get; init; } = "constant";

    public int Epochs { get; init; } = 100;

    public int BatchSize { get; init; } = 32;

    /// <summary>L1 penalty λ₁·Σ|w| on weights (not biases), reported apart from the data loss.</summary>
    public double L1 { get; init; }

    /// <summary>L2 penalty λ₂·Σw² on weights, reported apart from the data loss.</summary>
    public double L2 { get; init; }

    /// <summary>Weight decay handed to the optimizer (decoupled in adamw, coupled L2 in the others, as PyTorch).</summary>
    public double WeightDecay { get; init; }

    /// <summary>Clip the global gradient norm to this value.</summary>
    public double? ClipNorm { get; init; }

    public ClassWeighting ClassWeights { get; init; }

    /// <summary>
    /// The share of training rows (stratified, at least one per class) that keep their labels; 1 keeps all. A supervised
    /// loss trains on the labeled rows alone, fixmatch_loss and mixmatch_loss on the others too. Classification only.
    /// </summary>
    public double LabeledFraction { get; init; } = 1;

    /// <summary>Randomly repeat minority-class rows of the training split until every class matches the largest.</summary>
    public bool Oversample { get; init; }

    /// <summary>Stop after this many epochs without a lower validation loss, and keep the best weights.</summary>
    public int? EarlyStopping { get; init; }

    public int Seed { get; init; }

    public double TestFraction { get; init; } = 0.2;

    public double ValidationFraction { get; init; } = 0.1;

    /// <summary>Where to write a checkpoint (atomically) every <see cref="CheckpointEvery"/> epochs, when stopping, and at the end; null: none.</summary>
    public string? CheckpointPath { get; init; }

    public int CheckpointEvery { get; init; } = 1;

    /// <summary>Continue from <see cref="CheckpointPath"/> when it exists (it must belong to the same options and data).</summary>
    public bool Resume { get; init; }
}
