using LossLab.Autograd;

namespace LossLab.Losses.Core;

/// <summary>
/// Catalog losses on autograd tensors: one fused node whose forward is the loss's kernel and whose backward is the
/// loss's own analytic gradient (not a graph of elementwise operations).
/// </summary>
public static class LossNode
{
    /// <summary>
    /// Evaluates <paramref name="loss"/> on tensors by input name and returns its value as a tensor in the graph.
    /// For a scalar value the backward scales the analytic gradient by the upstream gradient. For
    /// <c>reduction=none</c> each input element feeds one output element (row losses map an input element to the
    /// output element of its row), so the vector–Jacobian product is the analytic gradient times the upstream
    /// gradient of that element. An input shared by several outputs (a broadcast variance) cannot be weighted that
    /// way and is rejected with <c>reduction=none</c>.
    /// </summary>
    public static Tensor Apply(this ILoss loss, IReadOnlyDictionary<string, Tensor> inputs)
    {
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentNullException.ThrowIfNull(inputs);
        var data = new LossInputs { AllowNonFinite = true };
        foreach (var (name, t) in inputs) data.Add(name, t.ToData());
        LossResult result = loss.Evaluate(data, computeGradients: inputs.Values.Any(t => t.RequiresGrad));
        TensorData value = result.Value;
        var differentiable = inputs.Where(kv => kv.Value.RequiresGrad && result.Gradients.ContainsKey(kv.Key)).ToArray();
        var owners = new Dictionary<string, int[]?>();
        if (value.Length != 1)
        {
            foreach (var (name, t) in differentiable) owners[name] = Owners(loss, name, t.Shape, value.Shape);
        }
        Tensor[] parents = [.. inputs.Values];
        DType dtype = value.DType == DType.Float64 ? DType.Float64 : DType.Float32;
        return Tensor.FromOperation(value.ToArray<double>().ToArray(), value.Shape, dtype, parents, g =>
        {
            var grads = new double[]?[parents.Length];
            int i = 0;
            foreach (var (name, t) in inputs)
            {
                if (t.RequiresGrad && result.Gradients.TryGetValue(name, out TensorData? analytic))
                {
                    double[] a = analytic.ToArray<double>();
                    var scaled = new double[a.Length];
                    int[]? owner = value.Length == 1 ? null : owners[name];
                    for (int j = 0; j < a.Length; j++)
                    {
                        double up = owner is null ? g[0] : g[owner[j]];
                        scaled[j] = a[j] == 0 ? 0 : a[j] * up;   // masked entries stay exactly 0 (ignored rows)
                    }
                    grads[i] = scaled;
                }
                i++;
            }
            return grads;
        });
    }

    /// <summary>
    /// For each element of an input, the flat index of the output element it feeds: the output's dims must appear,
    /// in order, among the input's dims (the others are the reduced ones: classes, features, frames).
    /// </summary>
    private static int[] Owners(ILoss loss, string name, Shape input, Shape output)
    {
        var match = new int[output.Rank];
        int k = 0;
        for (int d = 0; d < input.Rank && k < output.Rank; d++)
        {
            if (input[d] == output[k]) match[k++] = d;
        }
        if (k < output.Rank || input.Numel < output.Numel)
        {
            throw new LossArgumentException(LossErrorCode.UnsupportedOption,
                $"{loss.Descriptor.Name}: with reduction='none' the gradient of '{name}' {input} cannot be split over the output {output}; use reduction='sum' or 'mean' inside the expression");
        }
        var owner = new int[input.Numel];
        var index = new int[input.Rank];
        for (int flat = 0; flat < owner.Length; flat++)
        {
            int o = 0;
            for (int m = 0; m < output.Rank; m++) o = o * output[m] + index[match[m]];
            owner[flat] = o;
            for (int d = input.Rank - 1; d >= 0; d--)
            {
                if (++index[d] < input[d]) break;
                index[d] = 0;
            }
        }
        return owner;
    }
}
