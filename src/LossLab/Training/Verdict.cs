using System.Globalization;

namespace LossLab.Training;

/// <summary>The outcome of testing a claim.</summary>
public enum VerdictStatus
{
    Supported,
    NotSupported,
    Inconclusive,
}

/// <summary>A claim's verdict with its measured effect and interval, and a sentence built from the numbers.</summary>
public sealed record Verdict(VerdictStatus Status, double Effect, double Low, double High, string Text)
{
    /// <summary>
    /// Judges a claim from a paired difference whose positive values support it: supported when the 95 % interval
    /// lies above 0, not supported when it lies below 0, inconclusive when it contains 0 (or with one seed). When every
    /// seed gives the same difference the interval has no width, and the sign test decides (<see cref="PairedDifference.Significant"/>).
    /// <paramref name="effect"/> names the quantity, e.g. "MAE(MSE) − MAE(Huber)".
    /// </summary>
    public static Verdict FromDifference(PairedDifference d, string effect, int seeds, string unit = "")
    {
        ArgumentNullException.ThrowIfNull(d);
        VerdictStatus status = double.IsNaN(d.Low) ? VerdictStatus.Inconclusive
            : !d.Significant ? VerdictStatus.Inconclusive
            : d.Mean > 0 ? VerdictStatus.Supported
            : VerdictStatus.NotSupported;
        string interval = double.IsNaN(d.Low) ? "no interval with one seed"
            : d.NoSpread ? F($"the same on every seed (no spread for a t-interval; sign test over {d.Count} seeds)")
            : F($"95 % interval [{d.Low:G3}, {d.High:G3}]");
        string word = status switch
        {
            VerdictStatus.Supported => "supported",
            VerdictStatus.NotSupported => "not supported (the effect goes the other way)",
            _ when d.NoSpread && d.Mean != 0 => "inconclusive (one sign on every seed needs at least 6 seeds)",
            _ => "inconclusive (the interval contains 0)",
        };
        return new Verdict(status, d.Mean, d.Low, d.High, F($"{effect} = {d.Mean:G3}{unit} over {seeds} seeds, {interval}: {word}."));
    }

    private static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
