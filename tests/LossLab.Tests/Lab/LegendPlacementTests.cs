using LossLab.Cli.Lab;
using static LossLab.Cli.Lab.LegendPlacement;

namespace LossLab.Tests.Lab;

public sealed class LegendPlacementTests
{
    private static readonly double[] Epochs = [.. Enumerable.Range(1, 60).Select(i => (double)i)];

    private static SeriesRecord Curve(string name, Func<double, double> f) => new(name, Epochs, [.. Epochs.Select(f)]);

    [Fact]
    public void Falling_loss_curves_keep_the_lower_right_free_and_get_the_upper_right()
    {
        // ScottPlot's default corner (lower right) is where these curves end.
        SeriesRecord[] loss = [Curve("a", e => 0.2 + 1.3 * Math.Exp(-e / 4)), Curve("b", e => 0.25 + 1.2 * Math.Exp(-e / 5))];
        Assert.Equal(Place.UpperRight, Best(loss, null, 0.2, 0.2));
    }

    [Fact]
    public void Rising_accuracy_curves_get_the_lower_right()
    {
        SeriesRecord[] accuracy = [Curve("a", e => 0.95 - 0.6 * Math.Exp(-e / 4))];
        Assert.Equal(Place.LowerRight, Best(accuracy, null, 0.2, 0.2));
    }

    [Fact]
    public void A_loss_on_the_left_axis_and_an_accuracy_on_the_right_leave_the_middle_of_an_edge()
    {
        // Loss falls to the bottom, accuracy rises to the top, each on its own axis: every corner holds a curve.
        SeriesRecord[] loss = [Curve("loss", e => 0.22 + 0.16 * Math.Exp(-e / 2) + 0.0003 * e)];
        SeriesRecord[] accuracy = [Curve("accuracy", e => 0.95 - 0.07 * Math.Exp(-e / 2))];
        Place p = Best(loss, accuracy, 0.25, 0.15);
        Assert.Contains(p, new[] { Place.MiddleRight, Place.MiddleLeft });
    }

    [Fact]
    public void A_line_crossing_a_box_counts_even_with_no_point_inside_it()
    {
        // Two vertical lines on the left and right edges have their points in the corners only, yet they cross the
        // middle of each edge; one point sits at the bottom centre. Only the top centre is free.
        SeriesRecord left = new("left", [0, 0], [0, 1]), right = new("right", [1, 1], [0, 1]), bottom = new("bottom", [0.5], [0]);
        Assert.Equal(Place.UpperCenter, Best([left, right, bottom], null, 0.2, 0.2));
    }

    [Fact]
    public void Missing_points_are_not_counted_and_do_not_break_the_range()
    {
        SeriesRecord gappy = new("early stop", [1, 2, 3, 4], [1.0, 0.5, double.NaN, double.NaN]);
        SeriesRecord full = Curve("full", e => 1 - e / 120);
        Place p = Best([gappy, full], null, 0.2, 0.2);
        Assert.True(Enum.IsDefined(p));
        Assert.Equal(Place.UpperRight, Best([new SeriesRecord("flat", [1, 2], [double.NaN, double.NaN])], null, 0.2, 0.2));
    }

    [Fact]
    public void The_box_grows_with_the_longest_name_and_the_number_of_entries()
    {
        var (w1, h1) = Box(["a", "b"], 740, 340);
        var (w2, h2) = Box(["a much longer legend entry", "b", "c"], 740, 340);
        Assert.True(w2 > w1 && h2 > h1);
        Assert.Equal((1.0, 1.0), Box([new string('x', 500), .. Enumerable.Repeat("y", 40)], 740, 340));
    }
}
