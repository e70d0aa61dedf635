using System.Numerics;
using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Regression;

/// <summary>Which of torchvision's box losses: generalized, distance or complete IoU.</summary>
public enum BoxIouKind
{
    Generalized,
    Distance,
    Complete,
}

/// <summary>
/// torchvision's bounding-box IoU losses on boxes (x1, y1, x2, y2), one value per box pair: the shared computation of
/// <see cref="GeneralizedBoxIouLoss"/>, <see cref="DistanceBoxIouLoss"/> and <see cref="CompleteBoxIouLoss"/>.
/// </summary>
/// <remarks>
/// <para><b>Terms</b> (torchvision.ops): I = intersection area (0 unless both overlaps are positive), U = A₁ + A₂ − I,
/// iou = I/(U + ε). GIoU: ℓ = 1 − iou + (C − U)/(C + ε) with C the enclosing box's area. DIoU: ℓ = 1 − iou + ρ²/(d² + ε)
/// with ρ the distance of the centres and d the enclosing box's diagonal. CIoU: DIoU + α·v with
/// v = (4/π²)(atan(w₂/h₂) − atan(w₁/h₁))² and α = v/(1 − iou + v + ε) held constant in the gradient (torchvision
/// computes it under no_grad; <c>detach_alpha: false</c> differentiates it too). αv is 0 where v is (equal aspect
/// ratios), which also keeps a perfect prediction at ε = 0 finite.</para>
/// <para><b>Gradient</b>, by the chain rule through I, U, C (or d²), ρ² and v: with the partials g_I, g_U, g_C of ℓ,
/// ∂ℓ = (g_I − g_U)·∂I + g_U·(∂A₁ + ∂A₂) + g_C·∂C. The min and max of two coordinates pass the gradient to the larger
/// (or smaller) one and split it in half at a tie, as torch.maximum and torch.minimum do; ∂atan(w/h) = (h∂w − w∂h)/(w² + h²).</para>
/// <para><b>Checks</b>: boxes need x1 ≤ x2 and y1 ≤ y2 (torchvision assumes it; a reversed box is an error naming it), and
/// the complete loss needs a width or a height (a point box has no aspect ratio). Shapes (…, 4); default reduction
/// <c>none</c>; <c>mean</c> of no boxes is 0 (torchvision's 0·Σ), not 0/0.</para>
/// </remarks>
public abstract class BoxIouLoss(BoxIouKind kind, Reduction reduction, double eps, bool detachAlpha = true) : Loss
{
    public Reduction Reduction { get; } = reduction;

    public double Eps { get; } = eps >= 0 && double.IsFinite(eps) ? eps : throw LossArgumentException.Value($"box IoU loss: eps must be a finite number ≥ 0, got {eps}");

    /// <summary>d max(a, b)/da: 1 if a is larger, ½ at a tie, 0 otherwise (torch.maximum's split).</summary>
    private static double Larger(double a, double b) => a > b ? 1 : a == b ? 0.5 : 0;

    /// <summary>One pair's loss, and its gradient for both boxes times <paramref name="scale"/> (when the spans are not empty).</summary>
    internal static double Pair(BoxIouKind kind, double eps, bool detachAlpha, ReadOnlySpan<double> p, ReadOnlySpan<double> g, double scale, Span<double> gp, Span<double> gg)
    {
        double x1 = p[0], y1 = p[1], x2 = p[2], y2 = p[3], a1 = g[0], b1 = g[1], a2 = g[2], b2 = g[3];
        double iw = Math.Min(x2, a2) - Math.Max(x1, a1), ih = Math.Min(y2, b2) - Math.Max(y1, b1);
        bool overlap = iw > 0 && ih > 0;
        double inter = overlap ? iw * ih : 0;
        double wp = x2 - x1, hp = y2 - y1, wg = a2 - a1, hg = b2 - b1;
        double union = wp * hp + wg * hg - inter, iou = inter / (union + eps);
        double cw = Math.Max(x2, a2) - Math.Min(x1, a1), ch = Math.Max(y2, b2) - Math.Min(y1, b1);
        double loss, gI, gU, gC = 0, gDiag = 0, gRho = 0, rhoX = 0, rhoY = 0, gAtan = 0;
        gI = -1 / (union + eps);
        gU = inter / ((union + eps) * (union + eps));
        if (kind == BoxIouKind.Generalized)
        {
            double c = cw * ch;
            loss = 1 - iou + (c - union) / (c + eps);
            gU -= 1 / (c + eps);
            gC = 1 / (c + eps) - (c - union) / ((c + eps) * (c + eps));
        }
        else
        {
            double diag = cw * cw + ch * ch + eps;
            rhoX = (x1 + x2 - a1 - a2) / 2;
            rhoY = (y1 + y2 - b1 - b2) / 2;
            double rho = rhoX * rhoX + rhoY * rhoY;
            loss = 1 - iou + rho / diag;
            gRho = 1 / diag;
            gDiag = -rho / (diag * diag);
            if (kind == BoxIouKind.Complete)
            {
                double dAtan = Math.Atan(wg / hg) - Math.Atan(wp / hp);
                double v = 4 / (Math.PI * Math.PI) * dAtan * dAtan;
                // α = v/(1 − iou + v + ε) ≤ 1, so αv → 0 with v: at v = 0 (equal aspect ratios) it is 0, where torchvision
                // gives 0/0 = NaN for a perfect prediction at ε = 0.
                double den = 1 - iou + v + eps, alpha = v == 0 ? 0 : v / den;
                loss += alpha * v;
                gAtan = alpha * 8 / (Math.PI * Math.PI) * dAtan;   // ∂(αv)/∂(atan(w₂/h₂) − atan(w₁/h₁)) with α constant
                if (!detachAlpha && v != 0)
                {
                    // The true gradient: α also depends on v and on iou. ∂(αv)/∂v = 2α − α², ∂(αv)/∂iou = α²; the iou
                    // part joins the IoU partials below (ℓ has −iou, so ∂ℓ/∂iou gains α² from here).
                    gAtan = (2 * alpha - alpha * alpha) * 8 / (Math.PI * Math.PI) * dAtan;
                    double gIou = alpha * alpha;
                    gI += gIou / (union + eps);
                    gU -= gIou * inter / ((union + eps) * (union + eps));
                }
            }
        }
        if (gp.IsEmpty) return loss;

        // ∂I: through iw = min(x2, a2) − max(x1, a1) and ih alike, only where both overlaps are positive.
        double gIw = overlap ? (gI - gU) * ih : 0, gIh = overlap ? (gI - gU) * iw : 0;
        Span<double> dp = stackalloc double[4], dg = stackalloc double[4];
        dp[0] = -gIw * Larger(x1, a1); dg[0] = -gIw * Larger(a1, x1);
        dp[2] = gIw * Larger(a2, x2);  dg[2] = gIw * Larger(x2, a2);   // min: the smaller takes it
        dp[1] = -gIh * Larger(y1, b1); dg[1] = -gIh * Larger(b1, y1);
        dp[3] = gIh * Larger(b2, y2);  dg[3] = gIh * Larger(y2, b2);
        // ∂A₁, ∂A₂ (U = A₁ + A₂ − I; the −I part is in gI − gU above).
        dp[0] -= gU * hp; dp[2] += gU * hp; dp[1] -= gU * wp; dp[3] += gU * wp;
        dg[0] -= gU * hg; dg[2] += gU * hg; dg[1] -= gU * wg; dg[3] += gU * wg;
        // The enclosing box: C = cw·ch (GIoU) or d² = cw² + ch² (DIoU, CIoU).
        double gCw = kind == BoxIouKind.Generalized ? gC * ch : gDiag * 2 * cw;
        double gCh = kind == BoxIouKind.Generalized ? gC * cw : gDiag * 2 * ch;
        dp[2] += gCw * Larger(x2, a2); dg[2] += gCw * Larger(a2, x2);
        dp[0] -= gCw * Larger(a1, x1); dg[0] -= gCw * Larger(x1, a1);   // min(x1, a1): the smaller takes it
        dp[3] += gCh * Larger(y2, b2); dg[3] += gCh * Larger(b2, y2);
        dp[1] -= gCh * Larger(b1, y1); dg[1] -= gCh * Larger(y1, b1);
        if (kind != BoxIouKind.Generalized)
        {
            // ρ² = rhoX² + rhoY², rhoX = ((x1 + x2) − (a1 + a2))/2: ∂ρ²/∂x1 = rhoX.
            dp[0] += gRho * rhoX; dp[2] += gRho * rhoX; dg[0] -= gRho * rhoX; dg[2] -= gRho * rhoX;
            dp[1] += gRho * rhoY; dp[3] += gRho * rhoY; dg[1] -= gRho * rhoY; dg[3] -= gRho * rhoY;
        }
        if (kind == BoxIouKind.Complete)
        {
            // ∂atan(w/h) = (h∂w − w∂h)/(w² + h²); the difference is atan(w₂/h₂) − atan(w₁/h₁).
            double kg = gAtan / (wg * wg + hg * hg), kp = -gAtan / (wp * wp + hp * hp);
            dg[2] += kg * hg; dg[0] -= kg * hg; dg[3] -= kg * wg; dg[1] += kg * wg;
            dp[2] += kp * hp; dp[0] -= kp * hp; dp[3] -= kp * wp; dp[1] += kp * wp;
        }
        for (int k = 0; k < 4; k++)
        {
            gp[k] = scale * dp[k];
            gg[k] = scale * dg[k];
        }
        return loss;
    }

    protected sealed override LossResult Compute<T>(LossInputs inputs, bool computeGradients)
    {
        string name = Descriptor.Name;
        RequireSameShape(inputs, "boxes1", "boxes2");
        Shape shape = inputs["boxes1"].Shape;
        if (shape.Rank == 0 || shape[-1] != 4) throw LossArgumentException.Shape($"{name}: boxes must be (…, 4) as (x1, y1, x2, y2), got {shape}");
        double[] p = inputs["boxes1"].ToArray<double>(), g = inputs["boxes2"].ToArray<double>();
        int n = p.Length / 4;
        Check(name, "boxes1", p, kind);
        Check(name, "boxes2", g, kind);
        // The reduction's scale depends on n alone, so each pair's value and gradient come from one evaluation.
        double scale = Reduction == Reduction.Mean ? (n == 0 ? 0 : 1.0 / n) : 1;
        var loss = new double[n];
        double[] gp = computeGradients ? new double[p.Length] : [], gg = computeGradients ? new double[g.Length] : [];
        for (int i = 0; i < n; i++)
        {
            loss[i] = Pair(kind, Eps, detachAlpha, p.AsSpan(4 * i, 4), g.AsSpan(4 * i, 4), scale,
                computeGradients ? gp.AsSpan(4 * i, 4) : [], computeGradients ? gg.AsSpan(4 * i, 4) : []);
        }
        Shape pairShape = shape.WithoutAxis(shape.Rank - 1);
        double[] values = Reduction switch
        {
            Reduction.None => loss,
            Reduction.Sum => [loss.Sum()],
            _ => [n == 0 ? 0 : loss.Sum() / n],   // torchvision: 0·Σ for no boxes
        };
        TensorData value = FromDoubles<T>(values, Reduction == Reduction.None ? pairShape : Shape.Scalar);
        if (!computeGradients) return Result(value);
        return Result(value, ("boxes1", FromDoubles<T>(gp, shape)), ("boxes2", FromDoubles<T>(gg, shape)));
    }

    private static void Check(string name, string input, double[] b, BoxIouKind kind)
    {
        for (int i = 0; i < b.Length / 4; i++)
        {
            double w = b[4 * i + 2] - b[4 * i], h = b[4 * i + 3] - b[4 * i + 1];
            if (!(w >= 0 && h >= 0)) throw LossArgumentException.Value($"{name}: {input}[{i}] = ({b[4 * i]}, {b[4 * i + 1]}, {b[4 * i + 2]}, {b[4 * i + 3]}) is not (x1, y1, x2, y2) with x1 ≤ x2 and y1 ≤ y2");
            if (kind == BoxIouKind.Complete && w == 0 && h == 0) throw LossArgumentException.Value($"{name}: {input}[{i}] is a point (zero width and height), whose aspect ratio is 0/0");
        }
    }

    internal static readonly InputSpec[] Boxes =
    [
        new("boxes1", InputKind.Floating, true, "boxes (…, 4) as (x1, y1, x2, y2), e.g. the predictions"),
        new("boxes2", InputKind.Floating, true, "boxes of the same shape, e.g. the ground truth"),
    ];

    internal static OptionSpec[] BoxOptions =>
    [
        OptionSpec.Choice("reduction", "none", "none (torchvision's default: one value per pair), mean or sum", "none", "mean", "sum"),
        OptionSpec.Float("eps", 1e-7, "added to the denominators"),
    ];

    /// <summary>Random boxes (N, 4), default N = 5: corners in [0, 4], sizes in [0.3, 3], so some pairs overlap and some do not.</summary>
    internal static LossInputs Sample(Random r, Shape s)
    {
        Shape x = Samples.Or(s, 5, 4);
        int n = x.Numel / Math.Max(1, x[-1]);
        double[] Boxes()
        {
            var b = new double[x.Numel];
            for (int i = 0; i < n && x[-1] == 4; i++)
            {
                double x1 = 4 * r.NextDouble(), y1 = 4 * r.NextDouble();
                (b[4 * i], b[4 * i + 1], b[4 * i + 2], b[4 * i + 3]) = (x1, y1, x1 + 0.3 + 2.7 * r.NextDouble(), y1 + 0.3 + 2.7 * r.NextDouble());
            }
            return b;
        }
        return new LossInputs().Add("boxes1", TensorData.Create(x, DType.Float64, Boxes())).Add("boxes2", TensorData.Create(x, DType.Float64, Boxes()));
    }
}
