using System.Numerics;
using LossLab.Losses.Core;

namespace LossLab.Losses.Keras;

/// <summary>
/// A Keras loss computed over groups of elements: the last axis (categorical losses, cosine similarity) or the axes
/// named by <c>axis</c> (dice, tversky; null = every element, giving one scalar that Keras never reduces). Each group
/// gives one per-sample value; the kept dims form the per-sample shape.
/// </summary>
public abstract class KerasGroupLoss(string reduction, TensorData? sampleWeight, int[]? axes) : KerasLoss(reduction, sampleWeight)
{
    /// <summary>The reduced axes; null reduces every axis.</summary>
    public int[]? Axes { get; } = axes;

    /// <summary>One group's loss from its element values (y_true, y_pred), in the group's element order.</summary>
    protected abstract T GroupValue<T>(ReadOnlySpan<T> yTrue, ReadOnlySpan<T> yPred) where T : struct, IFloatingPointIeee754<T>;

    /// <summary>∂(group loss)/∂y_true and ∂/∂y_pred, times <paramref name="upstream"/>, into the spans.</summary>
    protected abstract void GroupGradient<T>(ReadOnlySpan<T> yTrue, ReadOnlySpan<T> yPred, T upstream, Span<T> gTrue, Span<T> gPred) where T : struct, IFloatingPointIeee754<T>;

    protected sealed override T[] PerSample<T>(T[] yTrue, T[] yPred, Shape shape, out Shape valueShape)
    {
        int[][] groups = Groups(shape, out valueShape);
        var values = new T[groups.Length];
        for (int g = 0; g < groups.Length; g++)
        {
            var (t, p) = Gather(yTrue, yPred, groups[g]);
            values[g] = GroupValue<T>(t, p);
        }
        return values;
    }

    protected sealed override void Backward<T>(T[] yTrue, T[] yPred, Shape shape, T[] upstream, T[] gTrue, T[] gPred)
    {
        int[][] groups = Groups(shape, out _);
        for (int g = 0; g < groups.Length; g++)
        {
            if (upstream[g] == T.Zero) continue;
            var (t, p) = Gather(yTrue, yPred, groups[g]);
            var gt = new T[t.Length];
            var gp = new T[p.Length];
            GroupGradient<T>(t, p, upstream[g], gt, gp);
            for (int k = 0; k < groups[g].Length; k++)
            {
                gTrue[groups[g][k]] += gt[k];
                gPred[groups[g][k]] += gp[k];
            }
        }
    }

    private static (T[] True, T[] Pred) Gather<T>(T[] yTrue, T[] yPred, int[] members)
        => ([.. members.Select(i => yTrue[i])], [.. members.Select(i => yPred[i])]);

    /// <summary>Flat element indices of every group (row-major over the kept dims), and the kept dims' shape.</summary>
    private int[][] Groups(Shape shape, out Shape valueShape)
    {
        int rank = shape.Rank;
        var reduced = new bool[rank];
        if (Axes is null) Array.Fill(reduced, true);
        else
        {
            foreach (int a in Axes)
            {
                int axis = a < 0 ? a + rank : a;
                if (axis < 0 || axis >= rank) throw new LossArgumentException(LossErrorCode.InvalidShape, $"{Descriptor.Name}: axis {a} is out of range for shape {shape}");
                reduced[axis] = true;
            }
        }
        int[] kept = [.. Enumerable.Range(0, rank).Where(d => !reduced[d])];
        valueShape = new Shape(kept.Select(d => shape[d]).ToArray());
        var groups = new List<int>[Math.Max(valueShape.Numel, 1)];
        for (int g = 0; g < groups.Length; g++) groups[g] = [];
        var index = new int[rank];
        for (int flat = 0; flat < shape.Numel; flat++)
        {
            int g = 0;
            foreach (int d in kept) g = g * shape[d] + index[d];
            groups[g].Add(flat);
            for (int d = rank - 1; d >= 0; d--)
            {
                if (++index[d] < shape[d]) break;
                index[d] = 0;
            }
        }
        return [.. groups.Select(l => l.ToArray())];
    }

    /// <summary>Parses Keras's <c>axis</c> option: null (every axis), one integer, or a list of integers.</summary>
    internal static int[]? ParseAxes(TensorData? axis) => axis is null ? null : [.. Enumerable.Range(0, axis.Length).Select(i => (int)axis.GetDouble(i))];
}
