using System.Numerics;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Embedding;

/// <summary>
/// sentence-transformers' embedding losses, with its <c>MatryoshkaLoss(model, loss, matryoshka_dims,
/// matryoshka_weights)</c> as two options of each (Kusupati et al. 2022, Matryoshka representation learning): the loss of
/// the embeddings cut to their first k dimensions, for each k, weighted and summed, ℓ = Σ_k w_k·ℓ(x[…, :k]), so that
/// every prefix of a trained embedding is an embedding too. The cut is of the model's embeddings only (a guide model's are
/// whole), as sentence-transformers slices the model's output.
/// </summary>
/// <remarks>
/// <b>Gradient:</b> Σ_k w_k·∂ℓ(x[…, :k]) placed in the first k columns. Left out: <c>n_dims_per_step</c>, which draws the
/// dimensions at random on each step (the value would not be a function of the inputs).
/// </remarks>
public abstract class SentenceEmbeddingLoss : Loss
{
    /// <summary>The dimensions k and weights w_k; null: the plain loss.</summary>
    public MatryoshkaDims? Matryoshka { get; init; }

    /// <summary>The inputs that hold the model's embeddings, cut to k on their last axis.</summary>
    protected abstract string[] EmbeddingInputs { get; }

    /// <summary>The loss itself on (possibly cut) inputs.</summary>
    protected abstract LossResult ComputeEmbeddings<T>(LossInputs inputs, bool computeGradients) where T : struct, IFloatingPointIeee754<T>;

    /// <summary>
    /// NaN, and NaN for every embedding's gradient: what a batch triplet loss gives when a distance is NaN, which orders
    /// nothing (a comparison that picks triplets would drop it silently; PyTorch's sums, maxima and minima propagate it).
    /// </summary>
    private protected LossResult NaNResult<T>(BatchTriplets b, bool computeGradients) where T : struct, IFloatingPointIeee754<T>
    {
        TensorData nan = FromDoubles<T>([double.NaN], Shape.Scalar);
        return computeGradients ? Result(nan, ("embeddings", FromDoubles<T>(Enumerable.Repeat(double.NaN, b.N * b.D).ToArray(), b.Shape))) : Result(nan);
    }

    protected sealed override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        if (Matryoshka is null) return ComputeEmbeddings<T>(inputs, computeGradients);
        string[] cut = [.. EmbeddingInputs.Where(inputs.Contains)];
        if (cut.Length == 0 || inputs[cut[0]].Shape.Rank < 2) return ComputeEmbeddings<T>(inputs, computeGradients);   // its own shape error
        int width = inputs[cut[0]].Shape[^1];
        foreach (string name in cut)
        {
            // Cutting would hide a width mismatch: check it on the whole embeddings first.
            Shape s = inputs[name].Shape;
            if (s.Rank < 2 || s[^1] != width)
                throw LossArgumentException.Shape($"{Descriptor.Name}: '{name}' has shape {s}; its embeddings must be {width} wide, as '{cut[0]}' {inputs[cut[0]].Shape}");
        }
        double[]? value = null;
        Shape valueShape = Shape.Scalar;
        var gradients = new Dictionary<string, double[]>();
        for (int m = 0; m < Matryoshka.Dims.Length; m++)
        {
            int k = Matryoshka.Dims[m];
            if (k > width) throw LossArgumentException.Value($"{Descriptor.Name}: matryoshka_dims[{m}] = {k} is more than the embeddings' {width} dimensions");
            var truncated = new LossInputs(inputs.Tensors) { AllowNonFinite = inputs.AllowNonFinite };
            foreach (string name in cut) truncated.Add(name, Cut(inputs[name], k));
            LossResult r = ComputeEmbeddings<T>(truncated, computeGradients);
            double w = Matryoshka.Weights[m];
            double[] v = r.Value.ToArray<double>();
            value ??= new double[v.Length];
            valueShape = r.Value.Shape;
            for (int i = 0; i < v.Length; i++) value[i] += w * v[i];
            foreach (var (name, g) in r.Gradients)
            {
                TensorData full = inputs[name];
                double[] acc = gradients.TryGetValue(name, out double[]? a) ? a : gradients[name] = new double[full.Length];
                double[] gv = g.ToArray<double>();
                int fullWidth = full.Shape.Rank == 0 ? 1 : full.Shape[^1], gWidth = g.Shape.Rank == 0 ? 1 : g.Shape[^1];
                for (int i = 0; i < gv.Length; i++) acc[i / gWidth * fullWidth + i % gWidth] += w * gv[i];
            }
        }
        TensorData result = FromDoubles<T>(value!, valueShape);
        return Result(result, [.. gradients.Select(kv => (kv.Key, (TensorData?)FromDoubles<T>(kv.Value, inputs[kv.Key].Shape)))]);
    }

    /// <summary>The first <paramref name="k"/> entries of the last axis, in the tensor's own type.</summary>
    private static TensorData Cut(TensorData t, int k)
    {
        int width = t.Shape[^1], rows = t.Length / Math.Max(1, width);
        var dims = t.Shape.Dims.ToArray();
        dims[^1] = k;
        double[] v = t.ToArray<double>(), c = new double[rows * k];
        for (int r = 0; r < rows; r++) Array.Copy(v, r * width, c, r * k, k);
        return t.DType == DType.Float32 ? TensorData.Create(new Shape(dims), DType.Float32, Array.ConvertAll(c, x => (float)x)) : TensorData.Create(new Shape(dims), DType.Float64, c);
    }

    /// <summary>The two options every sentence-transformers embedding loss takes.</summary>
    internal static OptionSpec[] MatryoshkaOptions =>
    [
        OptionSpec.Tensor("matryoshka_dims", "MatryoshkaLoss: the prefix widths k to train (e.g. [768, 512, 256, 128, 64]); None: the whole embedding"),
        OptionSpec.Tensor("matryoshka_weights", "MatryoshkaLoss: one weight per width (default 1 each)"),
    ];
}

/// <summary>MatryoshkaLoss's widths and weights, checked.</summary>
public sealed record MatryoshkaDims(int[] Dims, double[] Weights)
{
    /// <summary>The options' values: null when matryoshka_dims is not given.</summary>
    internal static MatryoshkaDims? From(LossOptions o, string loss)
    {
        TensorData? dims = o.Tensor("matryoshka_dims"), weights = o.Tensor("matryoshka_weights");
        if (dims is null)
        {
            return weights is null ? null : throw LossArgumentException.Value($"{loss}: matryoshka_weights needs matryoshka_dims");
        }
        var k = new int[dims.Length];
        for (int i = 0; i < k.Length; i++)
        {
            double v = dims.GetDouble(i);
            if (!(v >= 1 && v == Math.Floor(v) && v <= int.MaxValue)) throw LossArgumentException.Value($"{loss}: matryoshka_dims must be positive integers; matryoshka_dims[{i}] = {v}");
            k[i] = (int)v;
        }
        if (k.Length == 0) throw LossArgumentException.Value($"{loss}: matryoshka_dims is empty");
        double[] w = weights is null ? [.. Enumerable.Repeat(1.0, k.Length)] : [.. Enumerable.Range(0, weights.Length).Select(weights.GetDouble)];
        if (w.Length != k.Length) throw LossArgumentException.Shape($"{loss}: matryoshka_weights has {w.Length} values for {k.Length} matryoshka_dims");
        if (w.Any(x => !double.IsFinite(x))) throw LossArgumentException.Value($"{loss}: matryoshka_weights must be finite");
        return new MatryoshkaDims(k, w);
    }
}
