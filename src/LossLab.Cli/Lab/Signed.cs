using System.Globalization;

namespace LossLab.Cli.Lab;

/// <summary>
/// A difference with its sign always shown (+0.0123, −0.0456). .NET's "+0.0000;-0.0000" alone printed a negative value
/// that rounds to zero as "-+0.0000" (the first section with the minus sign kept): values are rounded first, and a
/// rounded zero is +0.
/// </summary>
internal static class Signed
{
    public static string Of(double value, int decimals = 4)
    {
        if (double.IsNaN(value)) return "NaN";
        string digits = new('0', decimals);
        double rounded = Math.Round(value, decimals, MidpointRounding.AwayFromZero) + 0.0;   // −0 + 0 = +0
        return rounded.ToString($"+0.{digits};-0.{digits}", CultureInfo.InvariantCulture);
    }
}
