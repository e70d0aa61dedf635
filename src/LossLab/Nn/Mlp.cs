using System.Globalization;
using LossLab.Autograd;

namespace LossLab.Nn;

/// <summary>Weight initialization schemes.</summary>
public enum Initialization
{
    /// <summary>He (Kaiming) normal, std √(2/fan_in): for the ReLU family.</summary>
    He,
    /// <summary>Xavier (Glorot) uniform, ±√(6/(fan_in + fan_out)): for tanh and sigmoid.</summary>
    Xavier,
}

/// <summary>Builds multi-layer perceptrons from a spec like <c>64,32</c>, seeded and reproducible.</summary>
public static class Mlp
{
    /// <summary>Parses "64,32" (empty for no hidden layer) into layer widths, with a clear error for bad text.</summary>
    public static int[] ParseHidden(string? spec)
    {
        if (string.IsNullOrWhiteSpace(spec)) return [];
        return [.. spec.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(part =>
            int.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out int w) && w > 0
                ? w
                : throw new ArgumentException($"hidden layer spec '{spec}': '{part}' is not a positive integer", nameof(spec)))];
    }

    /// <summary>The default initialization for an activation: He for the ReLU family, Xavier otherwise.</summary>
    public static Initialization DefaultInit(Activation a) => a is Activation.ReLU or Activation.LeakyReLU or Activation.ELU or Activation.GELU ? Initialization.He : Initialization.Xavier;

    /// <summary>inputs → hidden… (activation, dropout after each) → outputs (no activation: logits or values).</summary>
    public static Sequential Build(int inputs, IReadOnlyList<int> hidden, int outputs, Activation activation, int seed,
        double dropout = 0, Initialization? init = null, Numerics.DType dtype = Numerics.DType.Float32)
    {
        var random = new Random(seed);
        var layers = new List<Module>();
        int width = inputs, index = 0;
        foreach (int h in hidden.Append(outputs))
        {
            bool last = index == hidden.Count;
            layers.Add(CreateLinear(width, h, last ? Initialization.Xavier : init ?? DefaultInit(activation), random, $"layer{index}", dtype));
            if (!last)
            {
                layers.Add(new ActivationLayer(activation));
                if (dropout > 0) layers.Add(new Dropout(dropout, random.Next()));
            }
            width = h;
            index++;
        }
        return new Sequential(layers);
    }

    /// <summary>
    /// <paramref name="network"/> (from <see cref="Build"/> with one output) with its last Linear (in → 1) turned into
    /// CORAL's <see cref="SharedThresholds"/> (in → K − 1): the same weight, no bias of its own, and the thresholds'
    /// biases started as coral_pytorch starts them, (K − 1 − k)/(K − 1) for k = 0..K − 2, decreasing.
    /// </summary>
    public static Sequential WithSharedThresholds(Sequential network, int thresholds)
    {
        ArgumentNullException.ThrowIfNull(network);
        if (network.Layers.Count == 0 || network.Layers[^1] is not Linear { Outputs: 1 } last)
        {
            throw new ArgumentException("the network must end in a Linear layer with one output", nameof(network));
        }
        if (thresholds < 1) throw new ArgumentOutOfRangeException(nameof(thresholds), $"an ordinal head needs at least one threshold (two ranks), got {thresholds}");
        var bias = new double[thresholds];
        for (int k = 0; k < thresholds; k++) bias[k] = (double)(thresholds - k) / thresholds;
        var head = new SharedThresholds(last.Inputs, thresholds,
            Tensor.FromArray(last.Weight.ToArray(), [last.Inputs, 1], last.Weight.DType, requiresGrad: true),
            Tensor.FromArray(bias, [thresholds], last.Weight.DType, requiresGrad: true), $"layer{network.Layers.OfType<Linear>().Count() - 1}");
        return new Sequential([.. network.Layers.Take(network.Layers.Count - 1), head]);
    }

    public static Linear CreateLinear(int inputs, int outputs, Initialization init, Random random, string name, Numerics.DType dtype = Numerics.DType.Float32)
    {
        var w = new double[inputs * outputs];
        for (int i = 0; i < w.Length; i++)
        {
            w[i] = init == Initialization.He
                ? Math.Sqrt(2.0 / inputs) * Gaussian(random)
                : Math.Sqrt(6.0 / (inputs + outputs)) * (2 * random.NextDouble() - 1);
        }
        return new Linear(inputs, outputs,
            Tensor.FromArray(w, [inputs, outputs], dtype, requiresGrad: true),
            Tensor.FromArray(new double[outputs], [outputs], dtype, requiresGrad: true), name);
    }

    private static double Gaussian(Random r) => Math.Sqrt(-2 * Math.Log(1 - r.NextDouble())) * Math.Cos(2 * Math.PI * r.NextDouble());
}
