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
        AxisGroups groups = Groups(shape, out valueShape);
        var values = new T[groups.Count];
        for (int g = 0; g < values.Length; g++)
        {
            ReadOnlySpan<int> members = groups.Members(g);
            if (Contiguous(members)) values[g] = GroupValue<T>(yTrue.AsSpan(members[0], members.Length), yPred.AsSpan(members[0], members.Length));
            else
            {
                var (t, p) = Gather(yTrue, yPred, members);
                values[g] = GroupValue<T>(t, p);
            }
        }
        return values;
    }

    protected sealed override void Backward<T>(T[] yTrue, T[] yPred, Shape shape, T[] upstream, T[] gTrue, T[] gPred)
    {
        AxisGroups groups = Groups(shape, out _);
        for (int g = 0; g < groups.Count; g++)
        {
            if (upstream[g] == T.Zero) continue;
            ReadOnlySpan<int> members = groups.Members(g);
            if (Contiguous(members))
            {
                // A group along the last axis is a slice: read and written in place (the groups do not overlap, and the
                // gradients start at 0). Gathering every group into new arrays made a Keras loss allocate about five
                // times its inputs.
                int at = members[0], size = members.Length;
                GroupGradient<T>(yTrue.AsSpan(at, size), yPred.AsSpan(at, size), upstream[g], gTrue.AsSpan(at, size), gPred.AsSpan(at, size));
                continue;
            }
            var (t, p) = Gather(yTrue, yPred, members);
            var gt = new T[t.Length];
            var gp = new T[p.Length];
            GroupGradient<T>(t, p, upstream[g], gt, gp);
            for (int k = 0; k < members.Length; k++)
            {
                gTrue[members[k]] += gt[k];
                gPred[members[k]] += gp[k];
            }
        }
    }

    /// <summary>Whether the members are consecutive elements (a group along the last axis).</summary>
    private static bool Contiguous(ReadOnlySpan<int> members)
    {
        for (int k = 1; k < members.Length; k++) if (members[k] != members[0] + k) return false;
        return members.Length > 0;
    }

    private static (T[] True, T[] Pred) Gather<T>(T[] yTrue, T[] yPred, ReadOnlySpan<int> members)
    {
        var t = new T[members.Length];
        var p = new T[members.Length];
        for (int k = 0; k < members.Length; k++) (t[k], p[k]) = (yTrue[members[k]], yPred[members[k]]);
        return (t, p);
    }

    /// <summary>The groups' flat element indices (row-major over the kept dims), and the kept dims' shape.</summary>
    private AxisGroups Groups(Shape shape, out Shape valueShape)
    {
        AxisGroups groups = AxisGroups.Of(shape, Axes, Descriptor.Name);
        valueShape = groups.ValueShape;
        return groups;
    }
}
