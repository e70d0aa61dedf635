using LossLab.Cli.Lab;
using Xunit;

namespace LossLab.Tests.Cli;

public sealed class SignedTests
{
    [Theory]
    // A negative value that rounds to zero printed as "-+0.0000" through "+0.0000;-0.0000" alone (a compare report's
    // Δ column showed it); it is +0.0000 now.
    [InlineData(-1e-17, 4, "+0.0000")]
    [InlineData(-0.00004, 4, "+0.0000")]
    [InlineData(0.0, 4, "+0.0000")]
    [InlineData(-0.00006, 4, "-0.0001")]
    [InlineData(0.5, 4, "+0.5000")]
    [InlineData(-0.0159, 4, "-0.0159")]
    [InlineData(-0.0004, 3, "+0.000")]
    [InlineData(0.0125, 3, "+0.013")]
    [InlineData(double.NaN, 4, "NaN")]
    public void A_difference_shows_its_sign_and_a_rounded_zero_is_plus(double value, int decimals, string expected)
        => Assert.Equal(expected, Signed.Of(value, decimals));
}
