using LossLab.Losses.Core;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Losses.Segmentation;

/// <summary>Keras 3's IoU loss on the arrays of Keras's own dice docstring (whose dice values it also checks).</summary>
public sealed class KerasIoUTests
{
    // keras.losses.dice docstring: two samples of (2, 2, 1) masks.
    private static LossInputs DocstringMasks() => T.In(
        ("y_true", T.Shaped(new double[] { 1, 1, 0, 0, 1, 1, 0, 0 }, 2, 2, 2, 1)),
        ("y_pred", T.Shaped(new double[] { 0, 1, 0, 1, 0.4, 0, 0, 0.9 }, 2, 2, 2, 1)));

    private static LossResult Run(string loss, params (string, object?)[] options)
        => LossRegistry.Default.Create(loss, options.ToDictionary(o => o.Item1, o => o.Item2)).Evaluate(DocstringMasks());

    [Fact]
    public void Iou_counts_the_overlap_once_in_the_denominator()
    {
        const double eps = 1e-7f;   // backend.epsilon() in float32
        // Keras's docstring gives dice [0.5, 0.75757575] with axis (1, 2, 3).
        T.Close([1 - 2 / (4 + eps), 1 - 0.8 / (3.3 + eps)], Run("keras.dice", ("axis", T.D(1, 2, 3)), ("reduction", "none")).Value, 1e-12);
        // Sample 1: I = 1, U = 2 + 2 − 1 = 3; sample 2: I = 0.4, U = 2 + 1.3 − 0.4 = 2.9.
        LossResult iou = Run("keras.iou", ("axis", T.D(1, 2, 3)), ("reduction", "none"));
        T.Close([1 - 1 / (3 + eps), 1 - 0.4 / (2.9 + eps)], iou.Value, 1e-15);
        // ∂ℓ/∂ŷ of sample 1 = −(y·U − I·(1 − y))/U²: y = 1 → −3/9, y = 0 → 1/9.
        T.Close(-3.0 / 9, iou.Gradient("y_pred").GetDouble(0), 1e-6);
        T.Close(1.0 / 9, iou.Gradient("y_pred").GetDouble(3), 1e-6);
        // axis = None (the default): one scalar over both samples, I = 1.4, U = 4 + 3.3 − 1.4 = 5.9.
        T.Close([1 - 1.4 / (5.9 + eps)], Run("keras.iou").Value, 1e-15);
    }
}
