using BenchmarkDotNet.Running;

namespace LossLab.Benchmarks;

/// <summary>
/// <c>dotnet run -c Release --project bench/LossLab.Benchmarks -- --filter '*Ctc*'</c>; every benchmark class has a
/// baseline measured in the same run, so the ratios hold on a noisy machine.
/// </summary>
public static class Program
{
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
