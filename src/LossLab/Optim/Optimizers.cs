namespace LossLab.Optim;

/// <summary>An optimizer's state: the step count and its per-parameter slots (momentum, second moments...).</summary>
public sealed record OptimizerState(long Step, IReadOnlyList<double[]> First, IReadOnlyList<double[]> Second);

/// <summary>
/// A gradient transformation as a pair of pure functions (optax's design): <see cref="Init"/> makes the state,
/// <see cref="Update"/> maps gradients and state to parameter updates (to be added) and the next state.
/// </summary>
public interface IOptimizer
{
    string Name { get; }

    OptimizerState Init(IReadOnlyList<int> parameterSizes);

    (double[][] Updates, OptimizerState State) Update(IReadOnlyList<double[]> gradients, OptimizerState state, IReadOnlyList<double[]> parameters, double learningRate);
}

/// <summary>SGD with optional momentum μ, Nesterov, and coupled L2 weight decay λ (g ← g + λθ), as PyTorch's SGD.</summary>
public sealed record Sgd(double Momentum = 0, bool Nesterov = false, double WeightDecay = 0) : IOptimizer
{
    public string Name => Momentum == 0 ? "sgd" : Nesterov ? "nesterov" : "momentum";

    public OptimizerState Init(IReadOnlyList<int> parameterSizes) => new(0, [.. parameterSizes.Select(n => new double[n])], []);

    public (double[][] Updates, OptimizerState State) Update(IReadOnlyList<double[]> gradients, OptimizerState state, IReadOnlyList<double[]> parameters, double learningRate)
    {
        var updates = new double[gradients.Count][];
        var velocity = new double[gradients.Count][];
        for (int p = 0; p < gradients.Count; p++)
        {
            updates[p] = new double[gradients[p].Length];
            velocity[p] = new double[gradients[p].Length];
            for (int i = 0; i < updates[p].Length; i++)
            {
                double g = gradients[p][i] + WeightDecay * parameters[p][i];
                // v ← μv + g (v₀ = g, as PyTorch); step = g + μv (Nesterov) or v.
                double v = state.Step == 0 ? g : Momentum * state.First[p][i] + g;
                velocity[p][i] = v;
                double step = Momentum == 0 ? g : Nesterov ? g + Momentum * v : v;
                updates[p][i] = -learningRate * step;
            }
        }
        return (updates, new OptimizerState(state.Step + 1, velocity, []));
    }
}

/// <summary>RMSProp: s ← αs + (1 − α)g², θ ← θ − η·g/(√s + ε) (PyTorch defaults α = 0.99, ε = 1e-8).</summary>
public sealed record RmsProp(double Alpha = 0.99, double Epsilon = 1e-8, double WeightDecay = 0) : IOptimizer
{
    public string Name => "rmsprop";

    public OptimizerState Init(IReadOnlyList<int> parameterSizes) => new(0, [.. parameterSizes.Select(n => new double[n])], []);

    public (double[][] Updates, OptimizerState State) Update(IReadOnlyList<double[]> gradients, OptimizerState state, IReadOnlyList<double[]> parameters, double learningRate)
    {
        var updates = new double[gradients.Count][];
        var square = new double[gradients.Count][];
        for (int p = 0; p < gradients.Count; p++)
        {
            updates[p] = new double[gradients[p].Length];
            square[p] = new double[gradients[p].Length];
            for (int i = 0; i < updates[p].Length; i++)
            {
                double g = gradients[p][i] + WeightDecay * parameters[p][i];
                square[p][i] = Alpha * state.First[p][i] + (1 - Alpha) * g * g;
                updates[p][i] = -learningRate * g / (Math.Sqrt(square[p][i]) + Epsilon);
            }
        }
        return (updates, new OptimizerState(state.Step + 1, square, []));
    }
}

/// <summary>
/// Adam (Kingma &amp; Ba, 2015) with bias-corrected moments; <see cref="Decoupled"/> makes it AdamW (Loshchilov &amp;
/// Hutter, 2019): the weight decay shrinks θ directly (θ ← θ − ηλθ) instead of being added to the gradient.
/// </summary>
public sealed record Adam(double Beta1 = 0.9, double Beta2 = 0.999, double Epsilon = 1e-8, double WeightDecay = 0, bool Decoupled = false) : IOptimizer
{
    public string Name => Decoupled ? "adamw" : "adam";

    public OptimizerState Init(IReadOnlyList<int> parameterSizes)
        => new(0, [.. parameterSizes.Select(n => new double[n])], [.. parameterSizes.Select(n => new double[n])]);

    public (double[][] Updates, OptimizerState State) Update(IReadOnlyList<double[]> gradients, OptimizerState state, IReadOnlyList<double[]> parameters, double learningRate)
    {
        long t = state.Step + 1;
        double c1 = 1 - Math.Pow(Beta1, t), c2 = 1 - Math.Pow(Beta2, t);
        var updates = new double[gradients.Count][];
        var m = new double[gradients.Count][];
        var v = new double[gradients.Count][];
        for (int p = 0; p < gradients.Count; p++)
        {
            int n = gradients[p].Length;
            (updates[p], m[p], v[p]) = (new double[n], new double[n], new double[n]);
            for (int i = 0; i < n; i++)
            {
                double g = gradients[p][i] + (Decoupled ? 0 : WeightDecay * parameters[p][i]);
                m[p][i] = Beta1 * state.First[p][i] + (1 - Beta1) * g;              // first moment
                v[p][i] = Beta2 * state.Second[p][i] + (1 - Beta2) * g * g;          // second moment
                double step = m[p][i] / c1 / (Math.Sqrt(v[p][i] / c2) + Epsilon);    // bias-corrected
                updates[p][i] = -learningRate * step - (Decoupled ? learningRate * WeightDecay * parameters[p][i] : 0);
            }
        }
        return (updates, new OptimizerState(t, m, v));
    }
}

/// <summary>Learning rate per epoch (0-based).</summary>
public interface ISchedule
{
    double Rate(double baseRate, int epoch);
}

/// <summary>A constant rate.</summary>
public sealed record ConstantSchedule : ISchedule
{
    public double Rate(double baseRate, int epoch) => baseRate;
}

/// <summary>Multiplies the rate by γ every <c>StepEpochs</c> epochs.</summary>
public sealed record StepSchedule(int StepEpochs, double Gamma = 0.1) : ISchedule
{
    public double Rate(double baseRate, int epoch) => baseRate * Math.Pow(Gamma, epoch / Math.Max(StepEpochs, 1));
}

/// <summary>Cosine annealing from the base rate to <c>MinRate</c> over <c>TotalEpochs</c>.</summary>
public sealed record CosineSchedule(int TotalEpochs, double MinRate = 0) : ISchedule
{
    public double Rate(double baseRate, int epoch) => MinRate + 0.5 * (baseRate - MinRate) * (1 + Math.Cos(Math.PI * Math.Min(epoch, TotalEpochs) / Math.Max(TotalEpochs, 1)));
}

/// <summary>Linear warm-up from base/WarmupEpochs to the base rate, then the inner schedule.</summary>
public sealed record WarmupSchedule(int WarmupEpochs, ISchedule Inner) : ISchedule
{
    public double Rate(double baseRate, int epoch) => epoch < WarmupEpochs
        ? baseRate * (epoch + 1) / WarmupEpochs
        : Inner.Rate(baseRate, epoch - WarmupEpochs);
}

/// <summary>Gradient clipping by global norm.</summary>
public static class Clipping
{
    /// <summary>Scales all gradients so their joint L2 norm is at most <paramref name="maxNorm"/>; returns the norm before.</summary>
    public static double ClipByGlobalNorm(IReadOnlyList<double[]> gradients, double maxNorm)
    {
        ArgumentNullException.ThrowIfNull(gradients);
        double sum = 0;
        foreach (double[] g in gradients) foreach (double v in g) sum += v * v;
        double norm = Math.Sqrt(sum);
        if (norm > maxNorm && norm > 0)
        {
            double scale = maxNorm / norm;
            foreach (double[] g in gradients) for (int i = 0; i < g.Length; i++) g[i] *= scale;
        }
        return norm;
    }
}
