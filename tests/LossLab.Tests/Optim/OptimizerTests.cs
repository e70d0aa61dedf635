using LossLab.Optim;

namespace LossLab.Tests.Optim;

public sealed class OptimizerTests
{
    private static double[] Step(IOptimizer o, ref OptimizerState s, double[] grad, double[] param, double lr)
    {
        var (updates, next) = o.Update([grad], s, [param], lr);
        s = next;
        return updates[0];
    }

    [Fact]
    public void Adam_first_step_moves_each_parameter_by_the_learning_rate()
    {
        // Bias-corrected m̂ = g, v̂ = g², so the step is −η·g/(|g| + ε) ≈ −η·sign(g).
        var adam = new Adam();
        OptimizerState s = adam.Init([2]);
        double[] u = Step(adam, ref s, [0.3, -4], [1, 1], 0.01);
        Assert.Equal(-0.01, u[0], 9);
        Assert.Equal(0.01, u[1], 9);
        Assert.Equal(1, s.Step);
    }

    [Fact]
    public void Adamw_decouples_weight_decay_and_adam_couples_it()
    {
        OptimizerState a = new Adam(WeightDecay: 0.1, Decoupled: true).Init([1]);
        double[] decoupled = Step(new Adam(WeightDecay: 0.1, Decoupled: true), ref a, [0], [2], 0.5);
        Assert.Equal(-0.5 * 0.1 * 2, decoupled[0], 12);   // no gradient: only the decay
        OptimizerState b = new Adam(WeightDecay: 0.1).Init([1]);
        double[] coupled = Step(new Adam(WeightDecay: 0.1), ref b, [0], [2], 0.5);
        Assert.Equal(-0.5, coupled[0], 6);                  // decay enters the gradient, then normalized
    }

    [Fact]
    public void Sgd_momentum_and_nesterov_follow_pytorch()
    {
        var m = new Sgd(0.9);
        OptimizerState s = m.Init([1]);
        Assert.Equal(-0.1, Step(m, ref s, [1], [0], 0.1)[0], 12);          // v = g
        Assert.Equal(-0.1 * 1.9, Step(m, ref s, [1], [0], 0.1)[0], 12);    // v = 0.9·1 + 1
        var n = new Sgd(0.9, Nesterov: true);
        OptimizerState t = n.Init([1]);
        Assert.Equal(-0.1 * 1.9, Step(n, ref t, [1], [0], 0.1)[0], 12);    // g + μv, v = g
    }

    [Fact]
    public void Rmsprop_normalizes_by_the_running_square()
    {
        var r = new RmsProp();
        OptimizerState s = r.Init([1]);
        Assert.Equal(-0.01 * 2 / (Math.Sqrt(0.01 * 4) + 1e-8), Step(r, ref s, [2], [0], 0.01)[0], 12);
    }

    public static TheoryData<string, double[]> TorchRuns => new()
    {
        // PyTorch 1.13, float64: θ₀ = [1, −2, 0.5], p.grad set to the three gradients below, then opt.step() each time.
        { "sgd_momentum", [0.9442187689999999, -1.3361091980000002, 0.3870973995] },
        { "sgd_nesterov", [0.9570397353710001, -1.248724258682, 0.19662145057049996] },
        { "rmsprop", [0.9500465665600308, -1.9551395607113429, 0.4050319555104579] },
        { "adam", [0.9827147462738316, -1.9858688957416224, 0.4931423602410336] },
        { "adamw", [0.9801248029682674, -1.9800296831843767, 0.5016929916123] },
    };

    [Theory]
    [MemberData(nameof(TorchRuns))]
    public void Three_steps_with_weight_decay_match_pytorch(string name, double[] expected)
    {
        (IOptimizer o, double lr) = name switch
        {
            "sgd_momentum" => ((IOptimizer)new Sgd(0.9, WeightDecay: 0.01), 0.1),
            "sgd_nesterov" => (new Sgd(0.9, Nesterov: true, WeightDecay: 0.01), 0.1),
            "rmsprop" => (new RmsProp(0.99, 1e-8, WeightDecay: 0.01), 0.01),
            "adam" => (new Adam(WeightDecay: 0.01), 0.01),
            _ => (new Adam(WeightDecay: 0.1, Decoupled: true), 0.01),
        };
        double[] theta = [1, -2, 0.5];
        OptimizerState s = o.Init([3]);
        foreach (double[] g in new double[][] { [0.3, -4, 0], [0.1, 2, -1], [-0.5, 0.5, 3] })
        {
            double[] u = Step(o, ref s, g, theta, lr);
            for (int i = 0; i < 3; i++) theta[i] += u[i];
        }
        for (int i = 0; i < 3; i++) Assert.Equal(expected[i], theta[i], 1e-14);
    }

    [Fact]
    public void Schedules_and_clipping()
    {
        Assert.Equal(0.1, new StepSchedule(10, 0.1).Rate(1, 10), 12);
        Assert.Equal(1, new CosineSchedule(10).Rate(1, 0), 12);
        Assert.Equal(0, new CosineSchedule(10).Rate(1, 10), 12);
        Assert.Equal(0.5, new WarmupSchedule(2, new ConstantSchedule()).Rate(1, 0), 12);
        double[][] g = [[3], [4]];
        Assert.Equal(5, Clipping.ClipByGlobalNorm(g, 1), 12);
        Assert.Equal(0.6, g[0][0], 12);
        Assert.Equal(0.8, g[1][0], 12);
    }
}
