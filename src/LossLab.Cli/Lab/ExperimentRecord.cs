using System.Text.Json;
using System.Text.Json.Serialization;

namespace LossLab.Cli.Lab;

/// <summary>One series of a chart: y against x, with an optional ± band (std over seeds).</summary>
public sealed record SeriesRecord(string Name, double[] X, double[] Y, double[]? Spread = null)
{
    /// <summary>
    /// Per-epoch values of several seeds as one curve over epochs 1.. : the mean of the seeds that reached each epoch
    /// (runs that stopped early leave the later epochs to the others), with their sample std as the band if asked.
    /// </summary>
    public static SeriesRecord OverSeeds(string name, IReadOnlyList<IReadOnlyList<double>> perSeed, bool spread)
    {
        int length = perSeed.Count == 0 ? 0 : perSeed.Max(c => c.Count);
        double[] x = [.. Enumerable.Range(1, length).Select(i => (double)i)];
        double[] y = new double[length], std = new double[length];
        for (int e = 0; e < length; e++)
        {
            double[] v = [.. perSeed.Where(c => e < c.Count).Select(c => c[e])];
            y[e] = v.Average();
            std[e] = v.Length < 2 ? 0 : Math.Sqrt(v.Sum(t => (t - y[e]) * (t - y[e])) / (v.Length - 1));
        }
        return new SeriesRecord(name, x, y, spread ? std : null);
    }
}

/// <summary>A chart: lines over x (epochs, noise levels) or bars (one per category), with axis labels.</summary>
public sealed record ChartRecord(string Title, string Kind, string XLabel, string YLabel, IReadOnlyList<SeriesRecord> Series, string[]? Categories = null, string? RightYLabel = null, IReadOnlyList<SeriesRecord>? RightSeries = null);

/// <summary>A table: column headers and formatted rows.</summary>
public sealed record TableRecord(string[] Columns, IReadOnlyList<string[]> Rows);

/// <summary>The verdict on the claim, computed from the numbers.</summary>
public sealed record VerdictRecord(string Status, double Effect, double Low, double High, string Text);

/// <summary>
/// Everything the report shows about one experiment, saved as JSON beside the report so that
/// <c>losslab report</c> can rebuild the HTML without training again.
/// </summary>
public sealed record ExperimentRecord(int Number, string Id, string Title, string Claim, string Question, string Setup, TableRecord Table, ChartRecord Chart, VerdictRecord Verdict, int Seeds, double Seconds)
{
    public const string FileSuffix = ".experiment.json";

    private static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public string ToJson() => JsonSerializer.Serialize(this, Options);

    public static ExperimentRecord FromJson(string json) => JsonSerializer.Deserialize<ExperimentRecord>(json, Options)
        ?? throw new JsonException("empty experiment record");
}
