using LossLab.Losses.Core;
using LossLab.Numerics;
using LossLab.Tests.TestKit;
using Xunit;

namespace LossLab.Tests.Losses.Keras;

/// <summary>Keras's MAPE: the target's gradient keeps float32 accuracy where the prediction is small against the target.</summary>
public sealed class KerasMapeTests
{
    [Fact]
    public void The_target_gradient_has_no_cancellation()
    {
        // ∂/∂y of 100·|y − ŷ|/|y| = 100·sgn(y − ŷ)·sgn(y)·ŷ/y²; at y = 3, ŷ = 1e-4 the textbook form subtracts 1/3 from
        // (3 − 1e-4)/9 and kept about 3 float32 digits. One element, mean over the last axis and the batch: no scaling.
        var yTrue = TensorData.FromArray(new float[] { 3f }, 1, 1);
        var yPred = TensorData.FromArray(new float[] { 1e-4f }, 1, 1);
        ILoss mape = LossRegistry.Default.Create("keras.mape");
        double expected = 100.0 * (double)1e-4f / 9;
        T.Close(expected, mape.Evaluate(yTrue, yPred).Gradient("y_true").GetDouble(0), rel: 1e-6);
        // Negative targets: the sign of y enters twice (y = −3, ŷ = −1e-4: the same magnitude, sign of ŷ).
        var negTrue = TensorData.FromArray(new float[] { -3f }, 1, 1);
        var negPred = TensorData.FromArray(new float[] { -1e-4f }, 1, 1);
        T.Close(-expected, mape.Evaluate(negTrue, negPred).Gradient("y_true").GetDouble(0), rel: 1e-6);
    }
}
