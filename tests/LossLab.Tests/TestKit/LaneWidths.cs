using LossLab.Numerics.Simd;
using Xunit;

namespace LossLab.Tests.TestKit;

/// <summary>Every forced lane width, for tests of a vector path against its scalar specification (unaccelerated widths run in software).</summary>
public static class LaneWidths
{
    public static TheoryData<SimdWidth> All => [SimdWidth.V128, SimdWidth.V256, SimdWidth.V512];
}
