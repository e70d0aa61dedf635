using LossLab.Autograd;
using LossLab.Losses.Core;
using LossLab.Losses.Custom;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Losses.Custom;

public sealed class ExpressionLossTests
{
    private static double Value(string expr, params (string, TensorData)[] inputs)
        => LossRegistry.Default.Create("expr:" + expr).Evaluate(T.In(inputs)).Scalar;

    private static LossArgumentException Error(string expr, params (string, TensorData)[] inputs)
        => Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Create("expr:" + expr).Evaluate(T.In(inputs)));

    [Theory]
    [InlineData("1 + 2 * 3", 7)]
    [InlineData("(1 + 2) * 3", 9)]
    [InlineData("2 ^ 3 ^ 2", 512)]          // right-associative
    [InlineData("2 ** 3", 8)]
    [InlineData("-2 ^ 2", -4)]              // −(2²)
    [InlineData("10 - 4 - 3", 3)]           // left-associative
    [InlineData("12 / 3 / 2", 2)]
    [InlineData("+3 - -2", 5)]
    [InlineData("1 < 2", 1)]
    [InlineData("2 <= 1", 0)]
    [InlineData("3 > 2", 1)]
    [InlineData("2 >= 2", 1)]
    [InlineData("2 == 2", 1)]
    [InlineData("2 != 2", 0)]
    [InlineData("1 + 2 < 2 * 2", 1)]        // comparisons bind loosest
    [InlineData("1.5e1 + .5", 15.5)]
    [InlineData("pi - pi + e - e", 0)]
    public void Operators_and_precedence(string expr, double expected)
        => T.Close(expected, Value("x * 0 + " + expr, ("x", T.D(1))), rel: 1e-12);

    [Fact]
    public void Functions_compute_what_their_names_say()
    {
        var x = ("x", T.D(-1, 0.5, 2));
        T.Close(Math.Exp(-1) + Math.Exp(0.5) + Math.Exp(2), Value("sum(exp(x))", x), rel: 1e-12);
        T.Close(2.5, Value("sum(relu(x))", x), rel: 1e-12);
        T.Close(2, Value("max(x)", x));
        T.Close(-1, Value("min(x)", x));
        T.Close(1, Value("sum(clamp(x, -0.5, 1))", x), rel: 1e-12);   // [-0.5, 0.5, 1]
        T.Close(0.75, Value("sum(clamp(x, min=0, max=0.25)) + 0.25", x), rel: 1e-12);   // [0, 0.25, 0.25] + 0.25
        T.Close(3.5, Value("sum(where(x > 0, x, -x))", x), rel: 1e-12);
        T.Close(Math.Log(Math.Exp(-1) + Math.Exp(0.5) + Math.Exp(2)), Value("logsumexp(x)", x), rel: 1e-12);
        T.Close(1, Value("sum(softmax(x))", x), rel: 1e-12);
        T.Close(5.25, Value("sum(pow(x, 2))", x), rel: 1e-12);           // 1 + 0.25 + 4
        T.Close(4, Value("sum(maximum(x, 1))", x), rel: 1e-12);           // 1 + 1 + 2
        var m = ("m", T.D2(new double[,] { { 1, 2 }, { 3, 4 } }));
        var idx = ("idx", T.Shaped(new long[] { 1, 0 }, 2, 1));
        T.Close(2 + 3, Value("sum(gather(m, 1, idx))", m, idx), rel: 1e-12);                  // [[2], [3]]
        T.Close(7 + 10 + 15 + 22, Value("sum(matmul(m, m))", m), rel: 1e-12);
        T.Close(2 + 3, Value("sum(one_hot(reshape(idx, 2), 2) * m)", m, idx), rel: 1e-12);     // picks m[0,1], m[1,0]
        T.Close(10, Value("sum(transpose(m))", m), rel: 1e-12);
        T.Close(5, Value("sum(mean(m, axis=0))", m), rel: 1e-12);         // [2, 3]
        T.Close(20, Value("sum(concat(m, m, axis=1))", m), rel: 1e-12);
        // log Z of Barron's robust distribution: π√2 at α = 0, √(2π) at 2.
        T.Close(Math.Log(Math.PI * Math.Sqrt(2)) + 0.5 * Math.Log(2 * Math.PI), Value("sum(robust_log_partition(a))", ("a", T.D(0, 2))), rel: 1e-14);
    }

    [Fact]
    public void The_huber_formula_as_an_expression_gives_the_catalog_value_and_gradient()
    {
        LossInputs inputs = T.In(("input", T.D(LossSamples.Normal(new Random(1), 12, 2))), ("target", T.D(LossSamples.Normal(new Random(2), 12))));
        var expr = LossRegistry.Default.Create("expr:mean(where(abs(input-target) < 1, 0.5*(input-target)^2, abs(input-target)-0.5))").Evaluate(inputs);
        var huber = LossRegistry.Default.Create("huber_loss").Evaluate(inputs);
        T.Close(huber.Scalar, expr.Scalar, rel: 1e-14);
        T.Close(T.Values(huber.Gradient("input")), expr.Gradient("input"), rel: 1e-12);
        T.Close(T.Values(huber.Gradient("target")), expr.Gradient("target"), rel: 1e-12);
    }

    [Fact]
    public void Catalog_losses_are_functions_with_keyword_options_and_mix_with_primitives()
    {
        LossInputs inputs = T.In(("input", T.Shaped(LossSamples.Normal(new Random(3), 12), 4, 3)), ("target", T.I(0, 2, 1, 2)));
        var ce = LossRegistry.Default.Create("cross_entropy", T.Opt(("label_smoothing", 0.1))).Evaluate(inputs);
        var mix = LossRegistry.Default.Create("expr:0.7*cross_entropy(input, target, label_smoothing=0.1) + 0.3*mse_loss(softmax(input), one_hot(target))").Evaluate(inputs);
        var softmax = LossRegistry.Default.Create("expr:mse_loss(softmax(input), one_hot(target, 3), reduction='sum')").Evaluate(inputs);
        T.Close(0.7 * ce.Scalar + 0.3 * softmax.Scalar / 12, mix.Scalar, rel: 1e-6);
        Assert.False(mix.Gradients.ContainsKey("target"));   // class indices are never differentiated
        var none = LossRegistry.Default.Create("expr:sum(cross_entropy(input, target, reduction='none') * 2)").Evaluate(inputs);
        double sum = LossRegistry.Default.Create("cross_entropy", T.Opt(("reduction", "sum"))).Evaluate(inputs).Scalar;
        T.Close(2 * sum, none.Scalar, rel: 1e-6);
    }

    [Fact]
    public void Parse_errors_point_at_the_column_with_a_caret()
    {
        var e = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Get("expr:mean((input - target)^2"));
        Assert.Equal(LossErrorCode.InvalidExpression, e.Code);
        Assert.Contains("expected ')' to close the '(' at column 5", e.Message);
        Assert.EndsWith("\n  mean((input - target)^2\n                         ^", e.Message);
        Assert.Contains("found '*' at column 5", Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Get("expr:1 + * 2")).Message);
        Assert.Contains("unexpected character '$'", Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Get("expr:input $ 2")).Message);
        Assert.Contains("not closed", Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Get("expr:mse_loss(input, target, reduction='sum)")).Message);
        Assert.Contains("an expression", Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Get("expr:")).Message);
        Assert.Contains("given twice", Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Get("expr:f(a=1, a=2)")).Message);
    }

    [Fact]
    public void Unknown_functions_list_close_names_and_unknown_inputs_are_named()
    {
        var e = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Get("expr:men(input)"));
        Assert.Contains("unknown function 'men' at column 1", e.Message);
        Assert.Contains("mean", e.Message);
        var loss = Assert.Throws<LossArgumentException>(() => LossRegistry.Default.Get("expr:cross_entropi(input, target)"));
        Assert.Contains("cross_entropy", loss.Message);
        Assert.Contains("sum() takes 1 to 2 arguments, got 3", Error("sum(x, 1, 2)", ("x", T.D(1))).Message);
        var shape = Error("mean(input - target)", ("input", T.D(1, 2)), ("target", T.D(1, 2, 3)));
        Assert.Equal(LossErrorCode.InvalidShape, shape.Code);
        Assert.Contains("in - at column 12", shape.Message);
    }

    [Fact]
    public void Expressions_report_their_inputs_and_compute_in_the_request_type()
    {
        var d = LossRegistry.Default.Get("expr:mean((pred - y)^2) * scale");
        Assert.Equal(["pred", "y", "scale"], d.Inputs.Select(i => i.Name));
        var r32 = d.Create().Evaluate(T.In(("pred", T.F(1, 2)), ("y", T.F(0, 0)), ("scale", T.F(2))));
        Assert.Equal(DType.Float32, r32.Value.DType);
        Assert.Equal(5, r32.Scalar);
        Assert.Equal([2.0, 4.0], T.Values(r32.Gradient("pred")));
        Assert.Equal([2.5], T.Values(r32.Gradient("scale")));
    }

    [Fact]
    public void A_custom_loss_from_a_lambda_registers_and_works_by_name()
    {
        var registry = LossRegistry.CreateBuiltIn();
        var custom = new CustomLoss("LogCoshExample", ["input", "target"], t => Ops.Mean(Ops.Log(0.5 * (Ops.Exp(t["input"] - t["target"]) + Ops.Exp(t["target"] - t["input"])))), "ℓ = log cosh(x − y)", ["log_cosh_example"]);
        registry.Register(custom.Descriptor);
        ILoss byName = registry.Create("log_cosh_example");
        LossInputs inputs = T.In(("input", T.D(0.5, -1)), ("target", T.D(0, 0)));
        LossResult r = byName.Evaluate(inputs);
        T.Close((Math.Log(Math.Cosh(0.5)) + Math.Log(Math.Cosh(1))) / 2, r.Scalar, rel: 1e-14);
        T.Close([Math.Tanh(0.5) / 2, -Math.Tanh(1) / 2], r.Gradient("input"), rel: 1e-12);
        Assert.True(GradCheck.Run(byName, inputs).Passed);
        Assert.Throws<ArgumentException>(() => registry.Register(new CustomLoss("mse_loss", ["input"], t => t["input"]).Descriptor));
    }
}
