using System.CommandLine;
using System.Globalization;
using LossLab.Losses.Classification;
using LossLab.Losses.Core;
using LossLab.Losses.Regression;
using LossLab.Numerics;

namespace LossLab.Cli.Commands;

/// <summary>
/// <c>losslab demo</c>: until the training lab lands, a guided tour that evaluates real losses on a worked example
/// (values and gradients, computed now, not quoted) and then prints the catalog.
/// </summary>
internal static class DemoCommand
{
    public static Command Create(CliConsole console)
    {
        var command = new Command("demo", "A guided tour: losses evaluated on a worked example, then the catalog.");
        command.SetAction(_ => Run(console));
        return command;
    }

    private static int Run(CliConsole console)
    {
        TextWriter o = console.Out;
        o.WriteLine("LossLab demo: every number below is computed by the library as you watch.");
        o.WriteLine();

        // Regression: one outlier among four residuals.
        var pred = TensorData.FromArray(new float[] { 2.5f, 0.0f, 2.1f, 7.8f }, 4);
        var truth = TensorData.FromArray(new float[] { 3.0f, -0.5f, 2.0f, 1.8f }, 4);
        o.WriteLine("1. Regression, predictions [2.5, 0.0, 2.1, 7.8] vs targets [3.0, -0.5, 2.0, 1.8] (the last is an outlier):");
        foreach (ILoss loss in new ILoss[] { new MseLoss(), new L1Loss(), new HuberLoss() })
        {
            LossResult r = loss.Evaluate(new LossInputs().Add("input", pred).Add("target", truth));
            o.WriteLine($"   {loss.Descriptor.Name,-14} value {F(r.Scalar),10}   gradient {Vector(r.Gradient("input"))}");
        }
        o.WriteLine("   The outlier's share of the gradient: MSE lets it dominate, L1 and Huber cap it.");
        o.WriteLine();

        // Classification: 3 classes, 2 samples, with and without label smoothing.
        var logits = TensorData.FromArray(new float[] { 2.0f, 1.0f, 0.1f, 0.5f, 2.5f, 0.3f }, 2, 3);
        var labels = TensorData.FromArray(new long[] { 0, 2 }, 2);
        o.WriteLine("2. Cross-entropy, logits [[2.0, 1.0, 0.1], [0.5, 2.5, 0.3]], classes [0, 2] (the second is misclassified):");
        foreach (double eps in new[] { 0.0, 0.1 })
        {
            var ce = new CrossEntropy(new CrossEntropy.Options { LabelSmoothing = eps });
            LossResult r = ce.Evaluate(new LossInputs().Add("input", logits).Add("target", labels));
            o.WriteLine($"   label_smoothing={eps.ToString(CultureInfo.InvariantCulture),-4} value {F(r.Scalar),10}   d/dlogits {Vector(r.Gradient("input"))}");
        }
        o.WriteLine("   Each gradient row is (softmax − target)/N and sums to zero.");
        o.WriteLine();

        // Stability: the soft margin loss where PyTorch overflows.
        var x = TensorData.FromArray(new float[] { -10000f }, 1);
        var y = TensorData.FromArray(new float[] { 1f }, 1);
        LossResult sm = new SoftMarginLoss().Evaluate(new LossInputs().Add("input", x).Add("target", y));
        o.WriteLine($"3. Stability: soft_margin_loss at −y·x = 1e4 is {F(sm.Scalar)} with gradient {Vector(sm.Gradient("input"))}");
        o.WriteLine("   (PyTorch's float32 kernel returns inf and a NaN gradient here).");
        o.WriteLine();

        o.WriteLine("The catalog:");
        o.Write(LossesCommand.Table(console.Registry.Entries));
        return ExitCodes.Ok;
    }

    private static string F(double v) => v.ToString("G6", CultureInfo.InvariantCulture);

    private static string Vector(TensorData t)
        => "[" + string.Join(", ", Enumerable.Range(0, t.Length).Select(i => t.GetDouble(i).ToString("0.####", CultureInfo.InvariantCulture))) + "]";
}
