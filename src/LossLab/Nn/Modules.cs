using LossLab.Autograd;

namespace LossLab.Nn;

/// <summary>The activation functions a layer can apply.</summary>
public enum Activation
{
    Identity,
    ReLU,
    LeakyReLU,
    ELU,
    GELU,
    Sigmoid,
    Tanh,
    Softplus,
}

/// <summary>A trainable tensor; <see cref="IsWeight"/> parameters are the ones L1/L2 penalties regularize (not biases).</summary>
public sealed record Parameter(string Name, Tensor Value, bool IsWeight);

/// <summary>A layer or a stack of layers: tensors in, tensors out, with its trainable parameters.</summary>
public abstract class Module
{
    /// <summary>Applies the module; <paramref name="training"/> switches dropout on.</summary>
    public abstract Tensor Forward(Tensor x, bool training);

    public virtual IReadOnlyList<Parameter> Parameters => [];

    /// <summary>A short description for reports, e.g. <c>Linear(4 → 16)</c>.</summary>
    public abstract string Describe();
}

/// <summary>y = x·W + b with W (in, out) and b (out); x is (N, in).</summary>
public sealed class Linear : Module
{
    public Linear(int inputs, int outputs, Tensor weight, Tensor bias, string name)
    {
        if (weight.Shape != new Numerics.Shape(inputs, outputs) || bias.Shape != new Numerics.Shape(outputs))
        {
            throw new ArgumentException($"Linear({inputs} → {outputs}) needs W ({inputs}, {outputs}) and b ({outputs},), got {weight.Shape} and {bias.Shape}", nameof(weight));
        }
        Inputs = inputs;
        Outputs = outputs;
        Weight = weight;
        Bias = bias;
        Parameters = [new Parameter(name + ".weight", weight, true), new Parameter(name + ".bias", bias, false)];
    }

    public int Inputs { get; }

    public int Outputs { get; }

    public Tensor Weight { get; }

    public Tensor Bias { get; }

    public override IReadOnlyList<Parameter> Parameters { get; }

    public override Tensor Forward(Tensor x, bool training) => Ops.MatMul(x, Weight) + Bias;

    public override string Describe() => $"Linear({Inputs} → {Outputs})";
}

/// <summary>
/// CORAL's output layer (coral_pytorch's CoralLayer): y = x·w + b with one weight vector w (in, 1) shared by every
/// rank threshold and a bias per threshold b (K − 1), so y is (N, K − 1) and the thresholds differ only by their bias
/// (what makes the ranks consistent). x is (N, in).
/// </summary>
public sealed class SharedThresholds : Module
{
    public SharedThresholds(int inputs, int thresholds, Tensor weight, Tensor bias, string name)
    {
        if (weight.Shape != new Numerics.Shape(inputs, 1) || bias.Shape != new Numerics.Shape(thresholds))
        {
            throw new ArgumentException($"SharedThresholds({inputs} → {thresholds}) needs w ({inputs}, 1) and b ({thresholds},), got {weight.Shape} and {bias.Shape}", nameof(weight));
        }
        Inputs = inputs;
        Thresholds = thresholds;
        Weight = weight;
        Bias = bias;
        Parameters = [new Parameter(name + ".weight", weight, true), new Parameter(name + ".bias", bias, false)];
    }

    public int Inputs { get; }

    public int Thresholds { get; }

    public Tensor Weight { get; }

    public Tensor Bias { get; }

    public override IReadOnlyList<Parameter> Parameters { get; }

    public override Tensor Forward(Tensor x, bool training) => Ops.MatMul(x, Weight) + Bias;   // (N, 1) + (K − 1) → (N, K − 1)

    public override string Describe() => $"SharedThresholds({Inputs} → {Thresholds})";
}

/// <summary>An elementwise activation.</summary>
public sealed class ActivationLayer(Activation kind) : Module
{
    public Activation Kind { get; } = kind;

    public override Tensor Forward(Tensor x, bool training) => Apply(Kind, x);

    public override string Describe() => Kind.ToString();

    /// <summary>
    /// The activation on a tensor: LeakyReLU slope 0.01, ELU α = 1, GELU in its tanh form
    /// ½x(1 + tanh(√(2/π)(x + 0.044715x³))) (PyTorch's approximate='tanh').
    /// </summary>
    public static Tensor Apply(Activation kind, Tensor x) => kind switch
    {
        Activation.Identity => x,
        Activation.ReLU => Ops.Relu(x),
        Activation.LeakyReLU => Ops.Where(Ops.Greater(x, x.Constant(0)), x, 0.01 * x),
        Activation.ELU => Ops.Where(Ops.Greater(x, x.Constant(0)), x, Ops.Exp(Ops.Minimum(x, x.Constant(0))) - 1),
        Activation.GELU => 0.5 * x * (1 + Ops.Tanh(Math.Sqrt(2 / Math.PI) * (x + 0.044715 * Ops.Pow(x, 3)))),
        Activation.Sigmoid => Ops.Sigmoid(x),
        Activation.Tanh => Ops.Tanh(x),
        Activation.Softplus => Ops.Softplus(x),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };
}

/// <summary>Inverted dropout: in training, zeroes each element with probability p and scales the rest by 1/(1 − p).</summary>
public sealed class Dropout : Module
{
    private readonly Random _random;

    public Dropout(double probability, int seed)
    {
        if (!(probability >= 0 && probability < 1)) throw new ArgumentOutOfRangeException(nameof(probability), $"dropout probability must be in [0, 1), got {probability}");
        Probability = probability;
        _random = new Random(seed);
    }

    public double Probability { get; }

    /// <summary>Random numbers drawn so far (a checkpoint stores it; <see cref="Skip"/> replays it on resume).</summary>
    public long Draws { get; private set; }

    /// <summary>Advances the generator by <paramref name="draws"/> numbers, as if that many had been used.</summary>
    public void Skip(long draws)
    {
        for (long i = 0; i < draws; i++) _random.NextDouble();
        Draws += draws;
    }

    public override Tensor Forward(Tensor x, bool training)
    {
        if (!training || Probability == 0) return x;
        var mask = new double[x.Length];
        Draws += mask.Length;
        for (int i = 0; i < mask.Length; i++) mask[i] = _random.NextDouble() < Probability ? 0 : 1 / (1 - Probability);
        return x * Tensor.FromArray(mask, [.. x.Shape.Dims], x.DType);
    }

    public override string Describe() => $"Dropout({Probability})";
}

/// <summary>Modules applied in order.</summary>
public sealed class Sequential(IReadOnlyList<Module> layers) : Module
{
    public IReadOnlyList<Module> Layers { get; } = layers;

    public override IReadOnlyList<Parameter> Parameters => [.. Layers.SelectMany(l => l.Parameters)];

    public override Tensor Forward(Tensor x, bool training)
    {
        foreach (Module layer in Layers) x = layer.Forward(x, training);
        return x;
    }

    public override string Describe() => string.Join(" → ", Layers.Select(l => l.Describe()));
}
