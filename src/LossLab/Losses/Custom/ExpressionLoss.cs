using LossLab.Autograd;
using LossLab.Losses.Core;

namespace LossLab.Losses.Custom;

/// <summary>
/// A custom loss written as text, e.g. <c>mean(where(abs(input - target) &lt; 1, 0.5*(input - target)^2, abs(input - target) - 0.5))</c>
/// or <c>0.7*cross_entropy(input, target) + 0.3*mse_loss(softmax(input), one_hot(target))</c>. Names are the request's
/// inputs; functions are the autograd primitives and every catalog loss (by any alias, with keyword options).
/// The registry answers <c>expr:TEXT</c> with one, so it works wherever a loss name does. Errors point at the column.
/// </summary>
public sealed class ExpressionLoss : CustomLoss
{
    private static readonly string[] Constants = ["pi", "e"];

    /// <summary>The functions of the language, for help and for "did you mean" suggestions.</summary>
    public static IReadOnlyList<string> Functions { get; } =
    [
        "exp", "log", "sqrt", "abs", "relu", "sigmoid", "tanh", "softplus", "pow", "min", "max", "minimum", "maximum",
        "clamp", "where", "sum", "mean", "logsumexp", "softmax", "log_softmax", "matmul", "reshape", "transpose",
        "gather", "one_hot", "concat", "robust_log_partition",
    ];

    public ExpressionLoss(string text, LossRegistry registry)
        : this(text, registry, ExpressionParser.Parse(text ?? throw new ArgumentNullException(nameof(text)))) { }

    private ExpressionLoss(string text, LossRegistry registry, Expr tree)
        : base("expr:" + text, FreeVariables(tree), inputs => new Evaluator(text, registry, inputs).Eval(tree), text)
    {
        Text = text;
        Validate(tree, registry, text);
    }

    public string Text { get; }

    /// <summary>Input names in order of first appearance (constants excluded).</summary>
    private static List<string> FreeVariables(Expr tree)
    {
        var names = new List<string>();
        void Walk(Expr e)
        {
            switch (e)
            {
                case VariableExpr v when !Constants.Contains(v.Name) && !names.Contains(v.Name): names.Add(v.Name); break;
                case UnaryExpr u: Walk(u.Operand); break;
                case BinaryExpr b: Walk(b.Left); Walk(b.Right); break;
                case CallExpr c:
                    foreach (Expr a in c.Args) Walk(a);
                    foreach (var kv in c.Keywords) if (kv.Value is not VariableExpr { Name: "true" or "false" or "True" or "False" }) Walk(kv.Value);
                    break;
            }
        }
        Walk(tree);
        return names;
    }

    /// <summary>Rejects unknown functions up front, listing close names.</summary>
    private static void Validate(Expr tree, LossRegistry registry, string text)
    {
        switch (tree)
        {
            case UnaryExpr u: Validate(u.Operand, registry, text); break;
            case BinaryExpr b: Validate(b.Left, registry, text); Validate(b.Right, registry, text); break;
            case CallExpr c:
                if (!Functions.Contains(c.Name) && !registry.TryGet(c.Name, out _))
                {
                    var close = Functions.Concat(registry.Entries.SelectMany(d => d.AllNames))
                        .Select(n => (n, d: LossRegistry.EditDistance(n.ToLowerInvariant(), c.Name.ToLowerInvariant())))
                        .Where(p => p.d <= Math.Max(2, c.Name.Length / 3)).OrderBy(p => p.d).Select(p => p.n).Distinct().Take(4).ToList();
                    string hint = close.Count > 0 ? $"; did you mean {string.Join(", ", close)}?" : $"; functions: {string.Join(", ", Functions)}, or any loss name";
                    throw new LossArgumentException(LossErrorCode.InvalidExpression, $"unknown function '{c.Name}' at column {c.Column}{hint}" + ExpressionParser.Caret(text, c.Column));
                }
                foreach (Expr a in c.Args) Validate(a, registry, text);
                foreach (var kv in c.Keywords) Validate(kv.Value, registry, text);
                break;
        }
    }

    /// <summary>Evaluates a tree on named tensors (one evaluation; holds no state between calls).</summary>
    private sealed class Evaluator(string text, LossRegistry registry, IReadOnlyDictionary<string, Tensor> inputs)
    {
        private readonly DType _dtype = inputs.Values.Any(t => t.DType == DType.Float64) ? DType.Float64 : DType.Float32;

        public Tensor Eval(Expr e) => e switch
        {
            NumberExpr n => Tensor.Scalar(n.Value, _dtype),
            VariableExpr v => Variable(v),
            UnaryExpr u => Ops.Neg(Eval(u.Operand)),
            BinaryExpr b => Binary(b),
            CallExpr c => Call(c),
            StringExpr s => throw Fail($"the string '{s.Value}' can only be a keyword value such as reduction='sum'", s.Column),
            _ => throw new InvalidOperationException(e.GetType().Name),
        };

        private Tensor Variable(VariableExpr v)
        {
            if (inputs.TryGetValue(v.Name, out Tensor? t)) return t;
            if (v.Name == "pi") return Tensor.Scalar(Math.PI, _dtype);
            if (v.Name == "e") return Tensor.Scalar(Math.E, _dtype);
            throw Fail($"unknown input '{v.Name}'; the inputs are {string.Join(", ", inputs.Keys)}", v.Column);
        }

        private Tensor Binary(BinaryExpr b)
        {
            if (b.Op == "^" && b.Right is NumberExpr p) return Ops.Pow(Eval(b.Left), p.Value);
            Tensor l = Eval(b.Left), r = Eval(b.Right);
            return Guard(b.Column, b.Op, () => b.Op switch
            {
                "+" => Ops.Add(l, r),
                "-" => Ops.Sub(l, r),
                "*" => Ops.Mul(l, r),
                "/" => Ops.Div(l, r),
                "^" => Ops.Pow(l, r),
                "<" => Ops.Less(l, r),
                "<=" => Ops.LessEqual(l, r),
                ">" => Ops.Greater(l, r),
                ">=" => Ops.GreaterEqual(l, r),
                "==" => Ops.Equal(l, r),
                _ => Ops.NotEqual(l, r),
            });
        }

        private Tensor Call(CallExpr c)
        {
            if (!Functions.Contains(c.Name)) return CatalogLoss(c);
            Tensor Arg(int i) => i < c.Args.Count ? Eval(c.Args[i]) : throw Fail($"{c.Name}() needs argument {i + 1}", c.Column);
            int? axis = IntKeyword(c, "axis") ?? IntKeyword(c, "dim");
            bool keep = BoolKeyword(c, "keepdim") ?? false;
            CheckArity(c);
            return Guard(c.Column, c.Name, () => c.Name switch
            {
                "exp" => Ops.Exp(Arg(0)),
                "log" => Ops.Log(Arg(0)),
                "sqrt" => Ops.Sqrt(Arg(0)),
                "abs" => Ops.Abs(Arg(0)),
                "relu" => Ops.Relu(Arg(0)),
                "sigmoid" => Ops.Sigmoid(Arg(0)),
                "tanh" => Ops.Tanh(Arg(0)),
                "softplus" => Ops.Softplus(Arg(0)),
                "robust_log_partition" => Ops.RobustLogPartition(Arg(0)),
                "pow" => c.Args.Count > 1 && c.Args[1] is NumberExpr p ? Ops.Pow(Arg(0), p.Value) : Ops.Pow(Arg(0), Arg(1)),
                "minimum" => Ops.Minimum(Arg(0), Arg(1)),
                "maximum" => Ops.Maximum(Arg(0), Arg(1)),
                "min" => c.Args.Count == 2 ? Ops.Minimum(Arg(0), Arg(1)) : Ops.Neg(Ops.Max(Ops.Neg(Arg(0)), axis, keep)),
                "max" => c.Args.Count == 2 ? Ops.Maximum(Arg(0), Arg(1)) : Ops.Max(Arg(0), axis, keep),
                "clamp" => Ops.Clamp(Arg(0), Number(c, 1, "min", double.NegativeInfinity), Number(c, 2, "max", double.PositiveInfinity)),
                "where" => Ops.Where(Arg(0), Arg(1), Arg(2)),
                "sum" => Ops.Sum(Arg(0), axis ?? PositionalInt(c, 1), keep),
                "mean" => Ops.Mean(Arg(0), axis ?? PositionalInt(c, 1), keep),
                "logsumexp" => Ops.LogSumExp(Arg(0), axis ?? PositionalInt(c, 1), keep),
                "softmax" => Ops.Softmax(Arg(0), axis ?? PositionalInt(c, 1)),
                "log_softmax" => Ops.LogSoftmax(Arg(0), axis ?? PositionalInt(c, 1)),
                "matmul" => Ops.MatMul(Arg(0), Arg(1)),
                "reshape" => Ops.Reshape(Arg(0), [.. Enumerable.Range(1, c.Args.Count - 1).Select(i => PositionalInt(c, i) ?? -1)]),
                "transpose" => c.Args.Count >= 3 ? Ops.Transpose(Arg(0), PositionalInt(c, 1)!.Value, PositionalInt(c, 2)!.Value) : Ops.Transpose(Arg(0)),
                "gather" => Ops.Gather(Arg(0), PositionalInt(c, 1) ?? axis ?? -1, Arg(2)),
                "one_hot" => OneHot(c, Arg(0)),
                _ => Ops.Concat([.. c.Args.Select(Eval)], axis ?? 0),
            });
        }

        /// <summary>one_hot(index, num_classes); num_classes defaults to the class dim of 'input' (dim 1, or 0 for 1-D).</summary>
        private Tensor OneHot(CallExpr c, Tensor index)
        {
            int? classes = PositionalInt(c, 1) ?? IntKeyword(c, "num_classes");
            if (classes is null && inputs.TryGetValue("input", out Tensor? input) && input.Shape.Rank >= 1)
            {
                classes = input.Shape[input.Shape.Rank >= 2 ? 1 : 0];
            }
            classes ??= index.Length == 0 ? 0 : (int)index.ToArray().Max() + 1;
            return Ops.OneHot(index, classes.Value, _dtype);
        }

        /// <summary>A catalog loss: positional arguments fill its inputs in order, keywords are inputs or options.</summary>
        private Tensor CatalogLoss(CallExpr c)
        {
            LossDescriptor d = registry.Get(c.Name);
            if (c.Args.Count > d.Inputs.Count)
            {
                throw Fail($"{c.Name}() takes {d.Inputs.Count} inputs ({string.Join(", ", d.Inputs.Select(i => i.Name))}), got {c.Args.Count}", c.Column);
            }
            var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            for (int i = 0; i < c.Args.Count; i++) tensors[d.Inputs[i].Name] = Eval(c.Args[i]);
            var options = new Dictionary<string, object?>(StringComparer.Ordinal);
            foreach (var (key, value) in c.Keywords)
            {
                if (d.Inputs.Any(i => i.Name == key)) tensors[key] = Eval(value);
                else options[key] = value switch
                {
                    NumberExpr n => n.IsInteger ? (long)n.Value : n.Value,
                    UnaryExpr { Operand: NumberExpr n } => n.IsInteger ? -(long)n.Value : -n.Value,
                    StringExpr s => s.Value,
                    VariableExpr { Name: "true" or "True" } => true,
                    VariableExpr { Name: "false" or "False" } => false,
                    VariableExpr { Name: "None" } => null,
                    _ => Eval(value).ToData(),
                };
            }
            return Guard(c.Column, c.Name, () => d.Create(options).Apply(tensors));
        }

        private void CheckArity(CallExpr c)
        {
            (int min, int max) = c.Name switch
            {
                "pow" or "minimum" or "maximum" or "matmul" => (2, 2),
                "min" or "max" or "sum" or "mean" or "logsumexp" or "softmax" or "log_softmax" or "one_hot" => (1, 2),
                "clamp" => (1, 3),
                "where" or "gather" => (3, 3),
                "transpose" => (1, 3),
                "reshape" or "concat" => (1, int.MaxValue),
                _ => (1, 1),
            };
            if (c.Args.Count < min || c.Args.Count > max)
            {
                string count = min == max ? $"{min}" : max == int.MaxValue ? $"at least {min}" : $"{min} to {max}";
                throw Fail($"{c.Name}() takes {count} argument{(max == 1 ? "" : "s")}, got {c.Args.Count}", c.Column);
            }
        }

        private int? PositionalInt(CallExpr c, int i) => i < c.Args.Count ? (int)Constant(c.Args[i], c.Name) : null;

        private int? IntKeyword(CallExpr c, string key)
            => c.Keywords.FirstOrDefault(k => k.Key == key).Value is { } v ? (int)Constant(v, c.Name) : null;

        private bool? BoolKeyword(CallExpr c, string key) => c.Keywords.FirstOrDefault(k => k.Key == key).Value switch
        {
            null => null,
            VariableExpr { Name: "true" or "True" } => true,
            VariableExpr { Name: "false" or "False" } => false,
            var other => throw Fail($"{key} must be true or false", other.Column),
        };

        private double Number(CallExpr c, int position, string key, double fallback)
        {
            Expr? e = position < c.Args.Count ? c.Args[position] : c.Keywords.FirstOrDefault(k => k.Key == key).Value;
            return e is null ? fallback : Constant(e, c.Name);
        }

        private double Constant(Expr e, string function) => e switch
        {
            NumberExpr n => n.Value,
            UnaryExpr { Operand: NumberExpr n } => -n.Value,
            _ => throw Fail($"{function}(): this argument must be a number", e.Column),
        };

        /// <summary>Runs an operation, prefixing its errors with the function and the column.</summary>
        private Tensor Guard(int column, string what, Func<Tensor> op)
        {
            try
            {
                return op();
            }
            catch (LossArgumentException ex) when (!ex.Message.StartsWith("in ", StringComparison.Ordinal))
            {
                throw new LossArgumentException(ex.Code, $"in {what} at column {column}: {ex.Message}" + ExpressionParser.Caret(text, column));
            }
        }

        private LossArgumentException Fail(string message, int column)
            => new(LossErrorCode.InvalidExpression, $"{message} (column {column})" + ExpressionParser.Caret(text, column));
    }
}
