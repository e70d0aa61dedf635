using System.Numerics;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Classification;

/// <summary>
/// Multi-label hinge: ℓ = Σ_{j ∈ Y} Σ_{i ∉ Y} max(0, 1 − (x_{y_j} − x_i)) / C, with the label list Y padded by −1.
/// </summary>
/// <remarks>
/// PyTorch <c>torch.nn.functional.multilabel_margin_loss(input, target, reduction='mean')</c>. Shapes: input and target
/// (N, C) or (C); the target row lists class indices and ends at the FIRST −1 (later entries do not count); a
/// duplicated index counts twice. Only z = 1 − x_{y_j} + x_i &gt; 0 contributes (strict), with gradient +1/C on x_i and
/// −1/C on x_{y_j}. Every entry, also after the first −1, must lie in [−1, C), as PyTorch checks the whole target.
/// Finite for every finite input. The active pairs of a label are a suffix of the sorted non-target scores (and those
/// of a score a suffix of the sorted margins), so a row costs O(C log C), not O(|Y|·C); the sums are in double.
/// </remarks>
public sealed class MultilabelMarginLoss(MultilabelMarginLoss.Options options) : Loss, ILossDefinition
{
    public MultilabelMarginLoss() : this(new Options()) { }

    public sealed record Options
    {
        public Reduction Reduction { get; init; } = Reduction.Mean;
    }

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        Shape shape = inputs["input"].Shape;
        if (!(shape.Rank is 1 or 2)) throw LossArgumentException.Shape($"MultilabelMarginLoss: 'input' must be (N, C) or (C), got {shape}");
        RequireSameShape(inputs, "input", "target");
        int n = shape.Rank == 2 ? shape[0] : 1, c = shape[shape.Rank - 1];
        T[] x = inputs.Floating<T>("input");
        long[] target = inputs.Indices("target");
        for (int k = 0; k < target.Length; k++)
        {
            if (target[k] < -1 || target[k] >= c)
            {
                throw LossArgumentException.Value($"MultilabelMarginLoss: target {target[k]} at row {k / c}, position {k % c} is out of range: expected a class in [0, {c - 1}] or −1 to end the list");
            }
        }
        var loss = new T[n];
        var labels = new List<int>[n];
        var isTarget = new bool[c];
        var others = new T[c];     // a row's non-target scores, ascending
        var suffix = new double[c + 1];   // Σ others[q..], in double
        var margins = new T[c];    // a row's 1 − x_{y_j}, one per listed label (duplicates too), ascending
        var grad = computeGradients ? new T[x.Length] : [];
        double g = Reducer.Scale(options.Reduction, n) / c;   // one active pair's slope
        for (int r = 0; r < n; r++)
        {
            labels[r] = [];
            Array.Clear(isTarget);
            for (int k = 0; k < c; k++)
            {
                long t = target[r * c + k];
                if (t == -1) break;
                labels[r].Add((int)t);
                isTarget[t] = true;
            }
            // Pair (j, i) is active where z = (1 − x_{y_j}) + x_i > 0, rounded as PyTorch does: for a fixed label that test
            // is monotone in x_i, so over the sorted non-target scores the active ones are a suffix, found by binary
            // search, and their Σ z = count·(1 − x_{y_j}) + Σ x_i from suffix sums: O(C log C) instead of O(|Y|·C).
            int m = 0;
            for (int i = 0; i < c; i++) if (!isTarget[i]) others[m++] = x[r * c + i];
            Span<T> sorted = others.AsSpan(0, m);
            sorted.Sort();
            suffix[m] = 0;
            for (int q = m - 1; q >= 0; q--) suffix[q] = suffix[q + 1] + double.CreateTruncating(sorted[q]);
            double sum = 0;
            int count = labels[r].Count;
            for (int q = 0; q < count; q++)
            {
                int j = labels[r][q];
                T a = T.One - x[r * c + j];
                margins[q] = a;
                int first = FirstActive(sorted, a);
                if (first < m) sum += (m - first) * double.CreateTruncating(a) + suffix[first];
                if (computeGradients) grad[r * c + j] -= T.CreateTruncating((m - first) * g);
            }
            loss[r] = T.CreateTruncating(sum / c);
            if (!computeGradients) continue;
            // Each non-target score's active labels: the test is monotone in 1 − x_{y_j} too, a suffix of the sorted margins.
            Span<T> byMargin = margins.AsSpan(0, count);
            byMargin.Sort();
            for (int i = 0; i < c; i++)
            {
                if (isTarget[i]) continue;
                int first = FirstActive(byMargin, x[r * c + i]);
                grad[r * c + i] += T.CreateTruncating((count - first) * g);
            }
        }
        Reducer.Reduced reduced = Reducer.Reduce<T>(loss, options.Reduction, n);
        TensorData value = ValueTensor(options.Reduction, reduced, loss, shape.Rank == 2 ? new Shape(n) : Shape.Scalar);
        if (!computeGradients) return Result(value);
        return Result(value, ("input", Wrap(grad, shape)));
    }

    /// <summary>
    /// The first position of ascending <paramref name="sorted"/> where (1 − x_{y_j}) + x_i &gt; 0 in T's rounding, with
    /// <paramref name="other"/> the other operand (the sum is the same either way round); its length when none. The test
    /// is false then true along the sorted values (a NaN, sorted first, is false).
    /// </summary>
    private static int FirstActive<T>(ReadOnlySpan<T> sorted, T other) where T : struct, IFloatingPointIeee754<T>
    {
        int lo = 0, hi = sorted.Length;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (sorted[mid] + other > T.Zero) hi = mid;
            else lo = mid + 1;
        }
        return lo;
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "MultilabelMarginLoss",
        Aliases = ["multilabel_margin_loss", "MultiLabelMarginLoss"],
        Family = LossFamily.Classification,
        Task = LossTask.MultilabelClassification,
        Inputs =
        [
            new("input", InputKind.Floating, true, "scores (N, C) or (C)"),
            new("target", InputKind.Indices, false, "label indices padded with −1, same shape"),
        ],
        Options = [OptionSpec.Reduction("none", "mean", "sum")],
        Sample = (r, s) => { Shape x = Samples.Or(s, 3, 5); int c = x[x.Rank - 1]; var t = new long[x.Numel]; for (int row = 0; row < x.Numel / c; row++) { int k = r.Next(c); var perm = Enumerable.Range(0, c).OrderBy(_ => r.Next()).ToArray(); for (int j = 0; j < c; j++) t[row * c + j] = j < k ? perm[j] : -1; } return new LossInputs().Add("input", Samples.Normal(r, x)).Add("target", TensorData.Create(x, DType.Int64, t)); },
        Formula = "ℓ = Σ_{j∈Y} Σ_{i∉Y} max(0, 1 − (x_{y_j} − x_i)) / C",
        Gradient = "∂ℓ/∂x_i = +1/C, ∂ℓ/∂x_{y_j} = −1/C per active pair",
        Reference = "torch.nn.functional.multilabel_margin_loss",
        Stability = "finite for every finite input",
        Libraries = "PyTorch, TorchSharp",
        Factory = o => new MultilabelMarginLoss(new Options { Reduction = o.Reduction }),
    };

    public override LossDescriptor Descriptor => Entry;
}
