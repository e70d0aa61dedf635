using LossLab.Losses.Core;
using LossLab.Numerics;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Losses.Segmentation;

/// <summary>
/// smp's MCC loss by hand: soft counts, hard predictions (1 − the Matthews correlation of the confusion matrix), the
/// background-only mask that Dice cannot score, and errors. The torch reference (smp's formula) is in torch_diff.
/// </summary>
public sealed class MccLossTests
{
    private static LossInputs In(double[] p, double[] y) => T.In(("y_pred", T.D(p)), ("y_true", T.D(y)));

    [Fact]
    public void Soft_counts_by_hand()
    {
        // TP = 0.8, TN = 0.7, FP = 0.3, FN = 0.2: MCC = (0.56 − 0.06)/√(1.1·1.0·1.0·0.9).
        LossResult r = LossRegistry.Default.Create("mcc_loss", T.Opt(("eps", 0.0))).Evaluate(In([0.8, 0.3], [1, 0]));
        double mcc = 0.5 / Math.Sqrt(0.99);
        T.Close(1 - mcc, r.Scalar, 1e-15);
        // ∂ℓ/∂p = −[(y·C − (1 − y)·B)/√(ABCD) − MCC·(1/A − 1/D)/2] with A = 1.1, B = 1, C = 1, D = 0.9.
        double h = mcc * (1 / 1.1 - 1 / 0.9) / 2;
        T.Close([-(1 / Math.Sqrt(0.99) - h), -(-1 / Math.Sqrt(0.99) - h)], r.Gradient("y_pred"), 1e-14, 0);
    }

    [Fact]
    public void Hard_predictions_give_one_minus_the_matthews_correlation()
    {
        // Confusion TP 2, TN 3, FP 1, FN 2 (sklearn's matthews_corrcoef: (6 − 2)/√(3·4·4·5)).
        double[] p = [1, 1, 1, 0, 0, 0, 0, 0], y = [1, 1, 0, 1, 1, 0, 0, 0];
        LossResult r = LossRegistry.Default.Create("mcc_loss", T.Opt(("eps", 0.0))).Evaluate(In(p, y));
        T.Close(1 - 4 / Math.Sqrt(240), r.Scalar, 1e-15);
        // A mostly-background mask predicted as all background: Dice's foreground score is 0 whatever, MCC is near 0,
        // and predicting the one foreground pixel right takes the loss to 0.
        double[] mask = [0, 0, 0, 0, 0, 0, 0, 1];
        double allBackground = LossRegistry.Default.Create("mcc_loss").Evaluate(In([.. mask.Select(_ => 0.0)], mask)).Scalar;
        double right = LossRegistry.Default.Create("mcc_loss").Evaluate(In(mask, mask)).Scalar;
        Assert.InRange(allBackground, 0.99, 1.01);
        Assert.InRange(right, 0, 1e-4);
    }

    [Fact]
    public void Shapes_ranges_and_a_one_class_batch_without_eps_are_errors()
    {
        var shape = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("mcc_loss").Evaluate(
            T.In(("y_pred", T.Shaped(new double[6], 2, 1, 3)), ("y_true", T.Shaped(new double[4], 2, 2)))));
        Assert.Contains("must have the same batch size and number of elements", shape.Message);
        var range = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("mcc_loss").Evaluate(In([0.5, 1.5], [1, 0])));
        Assert.Contains("'y_pred' holds probabilities in [0, 1]; y_pred[1] = 1.5", range.Message);
        var oneClass = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("mcc_loss", T.Opt(("eps", 0.0))).Evaluate(In([1, 1], [1, 1])));
        Assert.Contains("MCC is 0/0", oneClass.Message);
    }
}
