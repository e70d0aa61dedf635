using LossLab.Numerics;

namespace LossLab.Losses.Classification;

/// <summary>The ordinal losses' targets: levels (N, K − 1) with y_ik = [rank_i &gt; k], given or built from ranks (N).</summary>
internal static class OrdinalLevels
{
    /// <summary>The levels as given (checked to be in [0, 1]), or from ranks in 0..K − 1 (coral_pytorch's levels_from_labelbatch).</summary>
    public static double[] Read(TensorData y, int n, int thresholds, string loss, string name)
    {
        if (y.Shape.Rank == 2 && y.Shape[0] == n && y.Shape[1] == thresholds)
        {
            double[] levels = (double[])y.ToArray<double>().Clone();
            for (int q = 0; q < levels.Length; q++)
                if (!(levels[q] >= 0 && levels[q] <= 1)) throw LossArgumentException.Value($"{loss}: {name}[{q / thresholds}, {q % thresholds}] = {levels[q]} is not a level in [0, 1]");
            return levels;
        }
        if (y.Shape.Rank == 1 && y.Shape[0] == n)
        {
            var levels = new double[n * thresholds];
            for (int i = 0; i < n; i++)
            {
                double rank = y.GetDouble(i);
                if (!(rank >= 0 && rank <= thresholds && rank == Math.Floor(rank)))
                    throw LossArgumentException.Value($"{loss}: rank {rank} at position {i} is not in 0..{thresholds} ({thresholds + 1} classes)");
                for (int k = 0; k < rank; k++) levels[i * thresholds + k] = 1;
            }
            return levels;
        }
        throw LossArgumentException.Shape($"{loss}: '{name}' must be levels ({n}, {thresholds}) or ranks ({n}), got shape {y.Shape}");
    }
}
