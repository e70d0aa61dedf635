using System.Numerics;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Probabilistic;

/// <summary>
/// Knowledge distillation (Hinton, Vinyals &amp; Dean, 2015): a student matches a teacher's softened class
/// distribution. Per row, ℓ = (1 − α)·T²·KL(softmax(t/T) ‖ softmax(s/T)) + α·CE(s, y), with s the student's logits, t
/// the teacher's, T the temperature and, when α &gt; 0, y the hard labels.
/// </summary>
/// <remarks>
/// <para><b>Why T²:</b> the soft term's gradient is (1/T)(softmax(s/T) − softmax(t/T)), which shrinks as 1/T² in the
/// high-temperature limit; T² keeps its scale when T changes (Hinton et al., §2). It is the PyTorch knowledge-distillation
/// tutorial's and the Keras distillation example's loss (Σ q(log q − log p) over classes, averaged over rows).</para>
/// <para><b>Derivation:</b> with p = softmax(s/T), q = softmax(t/T) and KL = Σ q(log q − log p):
/// ∂ℓ/∂s = (1 − α)·T·(p − q) + α·(softmax(s) − onehot(y)); ∂ℓ/∂t_k = (1 − α)·T·q_k·((log q_k − log p_k) − KL) (the teacher
/// is usually frozen; the gradient is there for a teacher trained along). Log-softmaxes are max-shifted and in double;
/// 0·log 0 = 0 where q underflows.</para>
/// <para>Shapes: student and teacher logits (…, C) (classes last), labels (…). <c>mean</c> (default) averages the
/// rows' losses (the tutorial's batchmean), <c>sum</c> adds them, <c>none</c> returns one per row.</para>
/// </remarks>
public sealed class DistillationLoss : Loss, ILossDefinition
{
    public DistillationLoss() : this(new Options()) { }

    public DistillationLoss(Options options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!(options.Temperature > 0) || !double.IsFinite(options.Temperature))
            throw LossArgumentException.Value($"DistillationLoss: temperature must be a finite number > 0, got {options.Temperature}");
        if (!(options.Alpha is >= 0 and <= 1)) throw LossArgumentException.Value($"DistillationLoss: alpha must be in [0, 1], got {options.Alpha}");
        Settings = options;
    }

    public Options Settings { get; }

    public sealed record Options
    {
        public Reduction Reduction { get; init; } = Reduction.Mean;

        /// <summary>T, the softening temperature (the PyTorch tutorial's 2).</summary>
        public double Temperature { get; init; } = 2;

        /// <summary>α, the weight of the hard-label cross-entropy (0: distillation alone, no labels needed).</summary>
        public double Alpha { get; init; }
    }

    protected override bool IsOptionalInput(string name) => name == "target";

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        string name = Entry.Name;
        RequireSameShape(inputs, "student_logits", "teacher_logits");
        Shape shape = inputs["student_logits"].Shape;
        if (shape.Rank == 0) throw LossArgumentException.Shape($"{name}: 'student_logits' must have a class axis (…, C), got a scalar");
        double temperature = Settings.Temperature, alpha = Settings.Alpha;
        int c = shape[-1];
        Shape rowShape = shape.WithoutAxis(shape.Rank - 1);
        int rows = rowShape.Numel;
        if (c == 0 && rows > 0) throw LossArgumentException.Shape($"{name}: 'student_logits' has shape {shape}: no classes to distill");
        if (alpha > 0 && !inputs.Contains("target"))
            throw LossArgumentException.Value($"{name}: alpha = {alpha} weights the hard-label term, so 'target' (class indices {rowShape}) is needed");
        long[]? labels = null;
        if (inputs.Contains("target"))
        {
            // Checked whenever given, even at α = 0 where it is unused: a target of the wrong shape is a caller's bug.
            if (inputs["target"].Shape != rowShape) throw LossArgumentException.Shape($"{name}: 'target' has shape {inputs["target"].Shape}; expected the rows' shape {rowShape}");
            long[] given = inputs.Indices("target");
            for (int r = 0; r < rows; r++)
                if (given[r] < 0 || given[r] >= c) throw LossArgumentException.Value($"{name}: target {given[r]} at row {r} is not a class in [0, {c - 1}]");
            if (alpha > 0) labels = given;
        }
        double[] s = inputs.Floating<double>("student_logits"), t = inputs.Floating<double>("teacher_logits");
        var logP = new double[s.Length];    // log softmax(s/T)
        var logQ = new double[s.Length];    // log softmax(t/T)
        var logHard = labels is null ? [] : new double[s.Length];   // log softmax(s)
        var scaled = new double[c];
        var kl = new double[rows];
        var loss = new T[rows];
        for (int r = 0; r < rows; r++)
        {
            int o = r * c;
            for (int j = 0; j < c; j++) scaled[j] = s[o + j] / temperature;
            Stable.LogSoftmax<double>(scaled, logP.AsSpan(o, c));
            for (int j = 0; j < c; j++) scaled[j] = t[o + j] / temperature;
            Stable.LogSoftmax<double>(scaled, logQ.AsSpan(o, c));
            double divergence = 0;
            for (int j = o; j < o + c; j++)
            {
                double q = Math.Exp(logQ[j]);
                if (q != 0) divergence += q * (logQ[j] - logP[j]);   // 0·log 0 = 0; a NaN q (a NaN teacher logit) stays NaN
            }
            kl[r] = divergence;
            double value = (1 - alpha) * temperature * temperature * divergence;
            if (labels is not null)
            {
                Stable.LogSoftmax<double>(s.AsSpan(o, c), logHard.AsSpan(o, c));
                value -= alpha * logHard[o + labels[r]];
            }
            loss[r] = T.CreateTruncating(value);
        }
        Reducer.Reduced reduced = Reducer.Reduce<T>(loss, Settings.Reduction, rows);
        TensorData result = ValueTensor(Settings.Reduction, reduced, loss, rowShape);
        if (!computeGradients) return Result(result);
        var gs = new T[s.Length];
        var gt = new T[t.Length];
        double soft = reduced.Scale * (1 - alpha) * temperature;
        for (int r = 0; r < rows; r++)
        {
            for (int j = r * c; j < (r + 1) * c; j++)
            {
                double p = Math.Exp(logP[j]), q = Math.Exp(logQ[j]);
                double g = soft * (p - q);
                if (labels is not null) g += reduced.Scale * alpha * (j - r * c == labels[r] ? Stable.Expm1(logHard[j]) : Math.Exp(logHard[j]));   // p − 1 by expm1
                gs[j] = T.CreateTruncating(g);
                gt[j] = T.CreateTruncating(q != 0 ? soft * q * (logQ[j] - logP[j] - kl[r]) : 0);
            }
        }
        return Result(result, ("student_logits", Wrap(gs, shape)), ("teacher_logits", Wrap(gt, shape)));
    }

    public static LossDescriptor Entry { get; } = new()
    {
        Name = "DistillationLoss",
        Aliases = ["distillation_loss", "knowledge_distillation", "kd_loss"],
        Family = LossFamily.Probabilistic,
        Task = LossTask.Distribution,
        Inputs =
        [
            new("student_logits", InputKind.Floating, true, "the student's logits (…, C)"),
            new("teacher_logits", InputKind.Floating, true, "the teacher's logits, same shape"),
            new("target", InputKind.Indices, false, "class indices (…), needed when alpha > 0"),
        ],
        Options =
        [
            OptionSpec.Reduction(),
            OptionSpec.Float("temperature", 2, "T: the softening temperature of both distributions"),
            OptionSpec.Float("alpha", 0, "α: the weight of the hard-label cross-entropy; 1 − α weighs the distillation term"),
        ],
        Sample = (r, s) =>
        {
            Shape x = Samples.Or(s, 4, 5);
            long[] labels = [.. Enumerable.Range(0, x[0]).Select(_ => (long)r.Next(x[1]))];
            return new LossInputs().Add("student_logits", Samples.Normal(r, x, 2)).Add("teacher_logits", Samples.Normal(r, x, 3))
                .Add("target", TensorData.FromArray(labels, x[0]));
        },
        Formula = "ℓ = (1 − α)·T²·Σ_c q_c(log q_c − log p_c) + α·CE(s, y),  p = softmax(s/T), q = softmax(t/T)",
        Gradient = "∂ℓ/∂s = (1 − α)·T·(p − q) + α·(softmax(s) − onehot(y));  ∂ℓ/∂t_k = (1 − α)·T·q_k·(log q_k − log p_k − KL)",
        Reference = "Hinton, Vinyals & Dean, Distilling the Knowledge in a Neural Network, 2015; PyTorch's knowledge distillation tutorial",
        Stability = "finite for every finite input (max-shifted log-softmaxes in double; 0·log 0 = 0)",
        Libraries = "PyTorch tutorial (kl_div batchmean × T²), Keras distillation example, torchdistill",
        LowerBound = 0,
        Factory = o => new DistillationLoss(new Options { Reduction = o.Reduction, Temperature = o.Float("temperature"), Alpha = o.Float("alpha") }),
    };

    public override LossDescriptor Descriptor => Entry;
}
