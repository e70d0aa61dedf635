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
        AxisGroups groups = AxisGroups.Of(shape, Axes, Descriptor.Name);
        valueShape = groups.ValueShape;
        if (groups.Count == 0) return [];   // an empty kept dim (no samples): no groups, so none gives an empty tensor
        return [.. Enumerable.Range(0, groups.Count).Select(g => groups.Members(g).ToArray())];
    }
}
