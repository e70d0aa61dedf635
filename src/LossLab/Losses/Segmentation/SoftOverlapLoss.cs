using System.Numerics;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Segmentation;

/// <summary>Which soft overlap score a segmentation loss uses.</summary>
public enum OverlapKind { Dice, Jaccard, Tversky }

/// <summary>How targets and predictions of a segmentation loss are laid out (segmentation_models_pytorch modes).</summary>
public enum SegmentationMode { Binary, Multiclass, Multilabel }

/// <summary>
/// Soft Dice, Jaccard and (focal) Tversky losses with segmentation_models_pytorch semantics. Shapes: input (N, C, *)
/// (logits by default); target: binary (N, 1, *) or (N, *) in [0, 1]; multiclass (N, *) class indices; multilabel
/// (N, C, *) in [0, 1]. Probabilities o = sigmoid (binary, multilabel) or softmax over C (multiclass).
/// </summary>
/// <remarks>
/// <para>Per class c, over the batch and every pixel: TP = (Σo + Σt − Σ|o − t|)/2 (equal to Σo·t for hard targets and
/// valid for soft ones), FP = Σo − TP, FN = Σt − TP. Scores, clamped below at eps:
/// Tversky (TP + s)/(TP + α·FP + β·FN + s); Dice is Tversky with α = β = ½, (TP + s)/((Σo + Σt)/2 + s), and Jaccard
/// with α = β = 1, (TP + s)/(Σo + Σt − TP + s), as smp's soft_dice_score and soft_jaccard_score.
/// ℓ_c = 1 − score (or −log score with log_loss), times [Σt &gt; 0] (a class absent from the target gives 0 but still
/// counts in the mean). reduction = mean (smp's only one): Σ w_c ℓ_c / Σ w_c (w = 1: the mean over classes); sum:
/// Σ w_c ℓ_c; none: the (C) vector w_c ℓ_c. Tversky's γ (focal Tversky) raises the reduced value, as smp does (with
/// none, each class). Pixels whose target equals ignore_index are removed from o and t.</para>
/// <para>Gradient: with G_TP, G_So, G_St the derivatives of the score, ∂/∂o_i = G_TP·(1 − sgn(o_i − t_i))/2 + G_So
/// and ∂/∂t_i = G_TP·(1 + sgn(o_i − t_i))/2 + G_St, then through the sigmoid (o(1 − o)) or the softmax
/// (o_j(g_j − Σ_k g_k o_k)). A clamped score has zero gradient. Sums are in double.</para>
/// </remarks>
public abstract class SoftOverlapLoss : Loss
{
    protected SoftOverlapLoss(OverlapKind kind, SegmentationMode mode, bool fromLogits, double smooth, double eps, bool logLoss, long? ignoreIndex,
        TensorData? weight, Reduction reduction, double alpha = 0.5, double beta = 0.5, double gamma = 1.0)
    {
        Reduction = reduction;
        string name = GetType().Name;
        if (!(smooth >= 0) || !double.IsFinite(smooth)) throw LossArgumentException.Value($"{name}: smooth must be ≥ 0, got {smooth}");
        if (!(eps >= 0) || !double.IsFinite(eps)) throw LossArgumentException.Value($"{name}: eps must be ≥ 0, got {eps}");
        if (!(alpha >= 0) || !(beta >= 0) || !double.IsFinite(alpha + beta)) throw LossArgumentException.Value($"{name}: alpha and beta must be ≥ 0, got {alpha}, {beta}");
        if (!(gamma > 0) || !double.IsFinite(gamma)) throw LossArgumentException.Value($"{name}: gamma must be > 0, got {gamma}");
        (Kind, Mode, FromLogits, Smooth, Eps, LogLoss, IgnoreIndex, Weight, Alpha, Beta, Gamma) = (kind, mode, fromLogits, smooth, eps, logLoss, ignoreIndex, weight, alpha, beta, gamma);
    }

    public OverlapKind Kind { get; }
    public Reduction Reduction { get; }
    public SegmentationMode Mode { get; }
    public bool FromLogits { get; }
    public double Smooth { get; }
    public double Eps { get; }
    public bool LogLoss { get; }
    public long? IgnoreIndex { get; }
    public TensorData? Weight { get; }
    public double Alpha { get; }
    public double Beta { get; }
    public double Gamma { get; }

    protected override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        string name = Descriptor.Name;
        Shape xs = inputs["input"].Shape, ts = inputs["target"].Shape;
        if (xs.Rank < 2) throw LossArgumentException.Shape($"{name}: 'input' must be (N, C, *), got {xs}");
        int n = xs[0], c = xs[1], pixels = n == 0 || c == 0 ? 0 : xs.Numel / (n * c);
        if (Mode == SegmentationMode.Binary && c != 1) throw LossArgumentException.Shape($"{name}: binary mode needs input (N, 1, *), got {xs}");
        double[] x = inputs["input"].ToArray<double>();
        var t = new double[x.Length];
        var keep = new bool[x.Length];
        ReadTargets(inputs, name, xs, ts, n, c, pixels, t, keep);

        // o = activation(x), then ignored pixels removed from o and t.
        var o = new double[x.Length];
        Activate(x, o, n, c, pixels);
        if (!FromLogits)
        {
            // Probabilities as given: one outside [0, 1] can push the score past 1 and (1 − score)^γ to NaN.
            for (int i = 0; i < o.Length; i++)
                if ((o[i] < 0 || o[i] > 1) && keep[i])   // NaN passes: allow_nonfinite propagates it
                    throw LossArgumentException.Value($"{name}: input holds {o[i]} at index {i}{xs.PositionText(i)}; with from_logits=false it holds probabilities in [0, 1]");
        }
        for (int i = 0; i < o.Length; i++) if (!keep[i]) (o[i], t[i]) = (0, 0);

        double[]? w = Weight?.ToArray<double>();
        if (w is not null && w.Length != c) throw LossArgumentException.Shape($"{name}: weight must have one value per class ({c}), got shape {Weight!.Shape}");
        double wSum = w?.Sum() ?? c;
        var so = new double[c];
        var st = new double[c];
        var l1 = new double[c];
        for (int b = 0; b < n; b++)
            for (int k = 0; k < c; k++)
                for (int p = 0; p < pixels; p++)
                {
                    int i = (b * c + k) * pixels + p;
                    so[k] += o[i];
                    st[k] += t[i];
                    l1[k] += Math.Abs(o[i] - t[i]);
                }
        var score = new double[c];
        var dScore = new (double Tp, double So, double St)[c];
        var v = new double[c];   // present_c·w_c·ℓ_c
        for (int k = 0; k < c; k++)
        {
            double tp = (so[k] + st[k] - l1[k]) / 2;
            (score[k], dScore[k]) = Score(tp, so[k], st[k]);
            if (score[k] < Eps) (score[k], dScore[k]) = (Eps, default);   // clamp_min: no gradient below eps
            double lc = LogLoss ? -Math.Log(score[k]) : 1 - score[k];
            v[k] = st[k] > 0 ? (w?[k] ?? 1) * lc : 0;
        }
        double Pow(double a) => Gamma == 1 ? a : Math.Pow(a, Gamma);
        double PowPrime(double a) => Gamma == 1 ? 1 : a > 0 ? Gamma * Math.Pow(a, Gamma - 1) : 0;
        double total = v.Sum(), aggregate = Reduction == Reduction.Mean ? (wSum == 0 ? 0 : total / wSum) : total;
        TensorData valueTensor = Reduction == Reduction.None
            ? Wrap(v.Select(a => T.CreateTruncating(Pow(a))).ToArray(), new Shape(c))
            : Wrap(new[] { T.CreateTruncating(Pow(aggregate)) }, Shape.Scalar);
        if (!computeGradients) return Result(valueTensor);

        var gScore = new double[c];   // ∂loss/∂score_c (for none: of Σ_c outputs)
        for (int k = 0; k < c; k++)
        {
            if (!(st[k] > 0)) continue;
            double dv = Reduction switch
            {
                Reduction.None => PowPrime(v[k]),
                Reduction.Sum => PowPrime(aggregate),
                _ => wSum == 0 ? 0 : PowPrime(aggregate) / wSum,
            };
            gScore[k] = dv * (w?[k] ?? 1) * (LogLoss ? -1 / score[k] : -1);
        }
        var go = new double[x.Length];
        var gt = new double[x.Length];
        for (int b = 0; b < n; b++)
            for (int k = 0; k < c; k++)
                for (int p = 0; p < pixels; p++)
                {
                    int i = (b * c + k) * pixels + p;
                    if (!keep[i]) continue;
                    double s = Stable.Sign(o[i] - t[i]), g = gScore[k];
                    go[i] = g * (dScore[k].Tp * (1 - s) / 2 + dScore[k].So);
                    gt[i] = g * (dScore[k].Tp * (1 + s) / 2 + dScore[k].St);
                }
        var gx = new double[x.Length];
        Deactivate(o, go, gx, n, c, pixels);
        var result = new List<(string, TensorData?)> { ("input", Wrap(gx.Select(T.CreateTruncating).ToArray(), xs)) };
        if (Mode != SegmentationMode.Multiclass)
        {
            // Binary targets of shape (N, *) get their gradient in that shape; the layout is the same.
            result.Add(("target", Wrap(gt.Select(T.CreateTruncating).ToArray(), ts)));
        }
        return Result(valueTensor, [.. result]);
    }

    /// <summary>The score and its partial derivatives in (TP, Σo, Σt).</summary>
    private (double Score, (double Tp, double So, double St) Grad) Score(double tp, double so, double st)
    {
        double s = Smooth;
        switch (Kind)
        {
            case OverlapKind.Dice:
            {
                // Tversky with α = β = ½, as smp's soft_dice_score: 2TP/(Σo + Σt) when s = 0.
                double num = tp + s, den = (so + st) / 2 + s;
                return den == 0 ? (0, default) : (num / den, (1 / den, -num / (2 * den * den), -num / (2 * den * den)));
            }
            case OverlapKind.Jaccard:
            {
                double num = tp + s, den = so + st - tp + s;
                return den == 0 ? (0, default) : (num / den, (1 / den + num / (den * den), -num / (den * den), -num / (den * den)));
            }
            default:
            {
                double num = tp + s, den = tp * (1 - Alpha - Beta) + Alpha * so + Beta * st + s;
                return den == 0 ? (0, default)
                    : (num / den, (1 / den - num * (1 - Alpha - Beta) / (den * den), -num * Alpha / (den * den), -num * Beta / (den * den)));
            }
        }
    }

    private void ReadTargets(LossInputs inputs, string name, Shape xs, Shape ts, int n, int c, int pixels, double[] t, bool[] keep)
    {
        if (Mode == SegmentationMode.Multiclass)
        {
            Shape expected = xs.WithoutAxis(1);
            if (ts != expected) throw LossArgumentException.Shape($"{name}: multiclass target must be class indices of shape {expected}, got {ts}");
            long[] labels = inputs.Indices("target");
            for (int b = 0; b < n; b++)
                for (int p = 0; p < pixels; p++)
                {
                    long y = labels[b * pixels + p];
                    bool ignored = y == IgnoreIndex;
                    if (!ignored && (y < 0 || y >= c))
                        throw LossArgumentException.Value($"{name}: target {y} at position {b * pixels + p} is out of range: class indices must be in [0, {c - 1}]"
                            + (IgnoreIndex is null ? "" : $" (or ignore_index {IgnoreIndex})"));
                    for (int k = 0; k < c; k++)
                    {
                        int i = (b * c + k) * pixels + p;
                        keep[i] = !ignored;
                        t[i] = !ignored && y == k ? 1 : 0;
                    }
                }
            return;
        }
        bool sameShape = ts == xs, squeezed = Mode == SegmentationMode.Binary && ts == xs.WithoutAxis(1);
        if (!sameShape && !squeezed)
            throw LossArgumentException.Shape($"{name}: {Mode.ToString().ToLowerInvariant()} target must have the input's shape {xs}" +
                (Mode == SegmentationMode.Binary ? $" or {xs.WithoutAxis(1)}" : "") + $", got {ts}");
        double[] raw = inputs["target"].ToArray<double>();
        for (int i = 0; i < raw.Length; i++)
        {
            keep[i] = IgnoreIndex is not long ig || raw[i] != ig;
            if (keep[i] && !(raw[i] >= 0 && raw[i] <= 1))
                throw LossArgumentException.Value($"{name}: target {raw[i]} at position {i} must be in [0, 1]" + (IgnoreIndex is null ? "" : $" (or ignore_index {IgnoreIndex})"));
            t[i] = keep[i] ? raw[i] : 0;
        }
    }

    private void Activate(double[] x, double[] o, int n, int c, int pixels)
    {
        if (!FromLogits)
        {
            Array.Copy(x, o, x.Length);
            return;
        }
        if (Mode != SegmentationMode.Multiclass)
        {
            for (int i = 0; i < x.Length; i++) o[i] = Stable.Sigmoid(x[i]);
            return;
        }
        ChannelSoftmax(x, o, n, c, pixels);
    }

    /// <summary>Softmax over the class dim of (N, C, P) data, max-shifted, into <paramref name="p"/>.</summary>
    internal static void ChannelSoftmax(double[] x, double[] p, int n, int c, int pixels)
    {
        for (int b = 0; b < n; b++)
            for (int q = 0; q < pixels; q++)
            {
                double max = double.NegativeInfinity, sum = 0;
                for (int k = 0; k < c; k++) max = Math.Max(max, x[(b * c + k) * pixels + q]);
                for (int k = 0; k < c; k++) sum += p[(b * c + k) * pixels + q] = Math.Exp(x[(b * c + k) * pixels + q] - max);
                for (int k = 0; k < c; k++) p[(b * c + k) * pixels + q] /= sum;
            }
    }

    /// <summary>gx = p ⊙ (gp − Σ_k gp_k p_k) per pixel: the softmax backward over the class dim.</summary>
    internal static void ChannelSoftmaxBackward(double[] p, double[] gp, double[] gx, int n, int c, int pixels)
    {
        for (int b = 0; b < n; b++)
            for (int q = 0; q < pixels; q++)
            {
                double dot = 0;
                for (int k = 0; k < c; k++) dot += gp[(b * c + k) * pixels + q] * p[(b * c + k) * pixels + q];
                for (int k = 0; k < c; k++)
                {
                    int i = (b * c + k) * pixels + q;
                    gx[i] = p[i] * (gp[i] - dot);
                }
            }
    }

    private void Deactivate(double[] o, double[] go, double[] gx, int n, int c, int pixels)
    {
        if (!FromLogits)
        {
            Array.Copy(go, gx, go.Length);
            return;
        }
        if (Mode != SegmentationMode.Multiclass)
        {
            for (int i = 0; i < o.Length; i++) gx[i] = go[i] * o[i] * (1 - o[i]);
            return;
        }
        ChannelSoftmaxBackward(o, go, gx, n, c, pixels);
    }

    // ---------------------------------------------------------------- shared descriptor parts

    internal static readonly InputSpec[] SegmentationInputs =
    [
        new("input", InputKind.Floating, true, "logits (or probabilities with from_logits=false), (N, C, *)"),
        new("target", InputKind.IndicesOrFloating, true, "binary (N, 1, *) or (N, *); multiclass indices (N, *); multilabel (N, C, *)"),
    ];

    internal static OptionSpec[] CommonOptions =>
    [
        OptionSpec.Reduction("none", "mean", "sum"),
        OptionSpec.Choice("mode", "multiclass", "binary, multiclass or multilabel", "binary", "multiclass", "multilabel"),
        OptionSpec.Bool("from_logits", true, "apply sigmoid (binary, multilabel) or softmax over C (multiclass) first"),
        OptionSpec.Float("smooth", 0.0, "added to numerator and denominator"),
        OptionSpec.Float("eps", 1e-7, "lower clamp of the score"),
        OptionSpec.Bool("log_loss", false, "−log(score) instead of 1 − score"),
        OptionSpec.OptionalInt("ignore_index", "target value whose pixels are left out"),
        OptionSpec.Tensor("weight", "one weight per class (C): Σwℓ/Σw instead of the mean"),
    ];

    internal static SegmentationMode ParseMode(string mode) => mode switch
    {
        "binary" => SegmentationMode.Binary,
        "multilabel" => SegmentationMode.Multilabel,
        _ => SegmentationMode.Multiclass,
    };

    internal static LossInputs Sample(Random r, Shape s)
    {
        Shape x = s.Rank >= 2 ? s : new Shape(2, 3, 4);
        return new LossInputs().Add("input", Samples.Normal(r, x)).Add("target", Samples.Classes(r, x.WithoutAxis(1), x[1]));
    }
}
