using LossLab.Losses.Core;
using LossLab.Numerics;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Losses;

/// <summary>
/// Keras's group losses read a group along the last axis in place and gather any other group's elements: over axis 1
/// of (A, B, C) inputs (gathered) they equal the last-axis loss (in place) on the inputs with that axis moved last,
/// (A, C, B), the gradients moved back, to the last bit (the same operations in the same order).
/// </summary>
public sealed class KerasAxisTests
{
    public static TheoryData<string> GroupLosses => new()
    {
        "keras.categorical_crossentropy",
        "keras.categorical_focal_crossentropy",
        "keras.cosine_similarity",
    };

    [Theory]
    [MemberData(nameof(GroupLosses))]
    public void A_middle_axis_gathered_equals_the_last_axis_in_place(string loss)
    {
        const int a = 3, b = 5, c = 4;
        var r = new Random(loss.Length);
        double[] yTrue = [.. Enumerable.Range(0, a * b * c).Select(_ => r.NextDouble())];
        double[] yPred = [.. Enumerable.Range(0, a * b * c).Select(_ => r.NextDouble() + 0.05)];
        LossResult over = LossRegistry.Default.Create(loss, T.Opt(("axis", T.I(1)), ("reduction", "none")))
            .Evaluate(T.In(("y_true", T.Shaped(yTrue, a, b, c)), ("y_pred", T.Shaped(yPred, a, b, c))));
        LossResult last = LossRegistry.Default.Create(loss, T.Opt(("reduction", "none")))
            .Evaluate(T.In(("y_true", T.Shaped(OptaxAxisTests.MoveMiddleLast(yTrue, a, b, c), a, c, b)), ("y_pred", T.Shaped(OptaxAxisTests.MoveMiddleLast(yPred, a, b, c), a, c, b))));
        Assert.Equal(new Shape(a, c), over.Value.Shape);
        Assert.Equal(T.Values(last.Value), T.Values(over.Value));
        Assert.NotEmpty(over.Gradients);
        foreach (var (name, g) in over.Gradients)
            Assert.Equal(T.Values(last.Gradient(name)), OptaxAxisTests.MoveMiddleLast(T.Values(g), a, b, c));
    }
}
