using System.Globalization;
using System.Text.Json.Nodes;
using LossLab.Cli;
using LossLab.Data;
using LossLab.Tests.TestKit;
using LossLab.Training;

namespace LossLab.Tests.Training;

public sealed class RecommenderTests
{
    /// <summary>A copy of a shipped CSV with some rows' targets changed or some rows dropped.</summary>
    private static string Derive(string name, Func<int, string, string?> rewriteTarget)
    {
        string path = Path.Combine(Directory.CreateTempSubdirectory("losslab-rec").FullName, name + ".csv");
        string[] lines = File.ReadAllLines(Datasets.PathOf(name));
        var output = new List<string> { lines[0] };
        for (int i = 1; i < lines.Length; i++)
        {
            int cut = lines[i].LastIndexOf(',');
            string? target = rewriteTarget(i - 1, lines[i][(cut + 1)..]);
            if (target is not null) output.Add(lines[i][..cut] + "," + target);
        }
        File.WriteAllLines(path, output);
        return path;
    }

    private static JsonNode Recommend(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = Program.Run(["recommend", .. args, "--format", "json"], new CliConsole(new StringReader(""), output, error, false));
        Assert.True(code == 0, error.ToString());
        return JsonNode.Parse(output.ToString())!;
    }

    [Fact]
    public void Injected_outliers_make_a_robust_loss_the_first_choice_and_the_reason_quotes_the_share()
    {
        // Every 20th diabetes target multiplied by 10: 5 % gross outliers.
        string path = Derive("diabetes", (i, t) => i % 20 == 0 ? (double.Parse(t, CultureInfo.InvariantCulture) * 10).ToString(CultureInfo.InvariantCulture) : t);
        JsonNode r = Recommend("--data", path);
        string top = r["ranking"]![0]!["loss"]!.GetValue<string>();
        double scale = r["profile"]!["target_scale"]!.GetValue<double>();
        Assert.Contains(top, new[] { "huber_loss", "l1_loss", Recommender.ScaledLogCosh(Recommender.HuberDelta(DataProfile.Of(CsvLoader.Load(path)))) });
        Assert.Contains("% of targets are outliers", r["ranking"]![0]!["reason"]!.GetValue<string>());
        Assert.InRange(r["profile"]!["outlier_share"]!.GetValue<double>(), 0.04, 0.06);
        // Huber's δ is in the targets' units (1.4826·MAD to two digits), not PyTorch's default 1, which on targets
        // spread over hundreds would make it L1.
        JsonNode huber = r["ranking"]!.AsArray().First(e => e!["loss"]!.GetValue<string>() == "huber_loss")!;
        double delta = double.Parse(huber["loss_options"]!["delta"]!.GetValue<string>(), CultureInfo.InvariantCulture);
        Assert.InRange(scale, 60, 120);
        Assert.Equal(scale, delta, scale * 0.05);
        JsonNode clean = Recommend("--data", Datasets.PathOf("diabetes"));
        Assert.Equal("mse_loss", clean["ranking"]![0]!["loss"]!.GetValue<string>());
    }

    [Fact]
    public void A_one_to_twenty_split_makes_a_class_balancing_loss_the_first_choice()
    {
        // breast_cancer keeping 18 of the 212 malignant rows: 18 vs 357 ≈ 1:20.
        int kept = 0;
        string path = Derive("breast_cancer", (i, t) => t == "0" ? (kept++ < 18 ? t : null) : t);
        JsonNode r = Recommend("--data", path, "--verify", "--seeds", "2", "--epochs", "15");
        JsonNode top = r["ranking"]![0]!;
        Assert.True(top["class_weights"]!.GetValue<string>() != "none", top.ToJsonString());
        Assert.Contains("imbalance 19.8:1", top["reason"]!.GetValue<string>());
        Assert.Equal("balanced_accuracy", r["verification"]!["metric"]!.GetValue<string>());
        Assert.Equal(3, r["verification"]!["arms"]!.AsArray().Count);
    }

    [Fact]
    public void Ordered_classes_bring_the_ordinal_losses_first_and_the_verification_ranks_by_rank_mae()
    {
        JsonNode r = Recommend("--data", Datasets.PathOf("diabetes"), "--bins", "4", "--verify", "--seeds", "2", "--epochs", "10");
        Assert.Equal("ordinal", r["profile"]!["task"]!.GetValue<string>());
        Assert.Equal(["corn_loss", "coral_loss", "cross_entropy", "emd_loss"], r["ranking"]!.AsArray().Select(e => e!["loss"]!.GetValue<string>()));
        Assert.Contains("4 ordered classes", r["ranking"]![0]!["reason"]!.GetValue<string>());
        Assert.Equal("rank_mae", r["verification"]!["metric"]!.GetValue<string>());
        Assert.Equal(3, r["verification"]!["arms"]!.AsArray().Count);
    }

    [Fact]
    public void A_long_tail_of_classes_brings_logit_adjustment_into_the_verified_three()
    {
        // digits keeping 180·0.55^c rows of class c (at least 4): 178 of class 0 down to 4 of classes 7, 8 and 9.
        var seen = new int[10];
        string path = Derive("digits", (i, t) =>
        {
            int c = int.Parse(t, CultureInfo.InvariantCulture);
            return seen[c]++ < Math.Max(4, (int)(180 * Math.Pow(0.55, c))) ? t : null;
        });
        JsonNode r = Recommend("--data", path);
        string[] losses = [.. r["ranking"]!.AsArray().Select(n => n!["loss"]!.GetValue<string>())];
        Assert.Equal("logit_adjusted_loss", losses[1]);
        Assert.Contains("log class priors", r["ranking"]![1]!["reason"]!.GetValue<string>());
    }

    [Fact]
    public void Sparse_multilabel_targets_bring_the_asymmetric_loss_into_the_verified_three()
    {
        // digits with three one-vs-rest labels (is_0, is_1, is_2): about 10 % positives each.
        string path = Path.Combine(Directory.CreateTempSubdirectory("losslab-rec").FullName, "digits3.csv");
        string[] lines = File.ReadAllLines(Datasets.PathOf("digits"));
        var output = new List<string> { lines[0][..lines[0].LastIndexOf(',')] + ",is_0,is_1,is_2" };
        foreach (string line in lines.Skip(1))
        {
            int cut = line.LastIndexOf(','), c = int.Parse(line[(cut + 1)..], CultureInfo.InvariantCulture);
            output.Add(line[..cut] + "," + string.Join(",", Enumerable.Range(0, 3).Select(k => k == c ? "1" : "0")));
        }
        File.WriteAllLines(path, output);
        JsonNode r = Recommend("--data", path, "--target", "is_0,is_1,is_2");
        string[] losses = [.. r["ranking"]!.AsArray().Select(n => n!["loss"]!.GetValue<string>())];
        Assert.Equal("asymmetric_loss", losses[2]);
    }

    [Fact]
    public void Conflicting_duplicates_point_to_noise_robust_losses_and_profiles_measure_what_they_say()
    {
        // iris with every 10th row's label changed: the 4 exact duplicates in iris now disagree too.
        var noisy = new Dataset([1, 2, 1, 2, 3, 4, 5, 6], 2, [0, 1, 1, 0], ["a", "b"], "y", TaskKind.Binary);
        DataProfile p = DataProfile.Of(noisy);
        Assert.Equal(2, p.ConflictingDuplicates);
        Assert.Equal(1, p.ImbalanceRatio);
        Assert.Equal(1.0 / 7, DataProfile.RobustOutlierShare([1, 2, 3, 4, 5, 6, 1000]), 12);
        Assert.Equal(0, DataProfile.RobustOutlierShare([1, 2, 3, 4, 5, 6, 7]));
        var labels = Enumerable.Range(0, 40).Select(i => (double)(i % 2)).ToArray();
        var features = Enumerable.Range(0, 40).SelectMany(i => new double[] { i / 2, 0 }).ToArray();   // pairs of identical rows with both labels
        IReadOnlyList<Recommendation> ranking = Recommender.Rank(DataProfile.Of(new Dataset(features, 2, labels, ["a", "b"], "y", TaskKind.Binary)));
        Assert.Equal(Recommender.GeneralizedCrossEntropy, ranking[0].Loss);
        Assert.Contains("conflicting labels", ranking[0].Reason);
    }
}
