using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Sequence;

/// <summary>
/// Optax's <c>ctc_loss_with_forward_probs</c>: the loss per sequence (B) and the forward (α) tables in log space.
/// <see cref="LogAlphaBlank"/>[t, b, n] is log α_B(t, n), the probability of the first t + 1 frames emitting the first n
/// labels and ending in a blank (n = 0…N); <see cref="LogAlphaLabel"/>[t, b, n] is log α_L(t, n), of their emitting the
/// first n + 1 labels and ending in label n (n = 0…N − 1). The last frame's blank row also holds the paths that end in
/// a label, so that −LogAlphaBlank[T − 1, b, len_b] is the loss. States no path reaches hold values near
/// <c>log_epsilon</c>, as Optax's do.
/// </summary>
public sealed record CtcForwardProbabilities(TensorData Loss, TensorData LogAlphaBlank, TensorData LogAlphaLabel);

public sealed partial class OptaxCtcLoss
{
    /// <summary>
    /// The loss of each sequence (B) with Optax's forward tables: log α_B (T, B, N + 1) and log α_L (T, B, N). Inputs
    /// and checks are the loss's (<c>logits</c>, <c>logit_paddings</c>, <c>labels</c>, <c>label_paddings</c>); the
    /// tables are float32 or float64 as the logits.
    /// </summary>
    /// <remarks>
    /// <para>The recursion is Optax's, in double: states start at log 1 for "no label, blank" and <c>log_epsilon</c>
    /// elsewhere; each frame first lets a label pass to the next blank state (ε-transition; blocked before a repeated
    /// label, whose paths must go through a blank), then advances both kinds of state by the frame's log-probability:
    /// α_L(t, n) = (α̃_B(t−1, n) ⊕ α_L(t−1, n)) + log p_t(y_n) and α_B(t, n) = α̃_B(t−1, n) + log p_t(blank), plus, before
    /// a repeat, α_L(t−1, n−1) + log p_t(blank), where ⊕ is log-add-exp and α̃ includes the ε-transition. A padded frame
    /// carries the previous states unchanged. Padded label positions are advanced too (their log-probability is that
    /// of the padded label's class, or 0 for a value outside [0, K), as Optax's one-hot gives); only states up to each
    /// sequence's label count are reachable.</para>
    /// <para>The loss agrees with <see cref="Loss.Evaluate"/>'s forward–backward value to round-off (tested), and the
    /// same inputs are errors: impossible targets among them.</para>
    /// </remarks>
    public CtcForwardProbabilities ForwardProbabilities(LossInputs inputs)
    {
        CheckInputs(inputs);
        Batch batch = Read(inputs);
        (int b, int frames, int k, int width) = (batch.Sequences, batch.Frames, batch.Classes, batch.Width);
        var losses = new double[b];
        var blankTable = new double[frames * b * (width + 1)];
        var labelTable = new double[frames * b * width];
        var logp = new double[k];
        double[] phi = new double[width + 1], emit = new double[width], passed = new double[width + 1];
        double[] nextPhi = new double[width + 1], nextEmit = new double[width];
        var repeat = new bool[width];
        for (int s = 0; s < b; s++)
        {
            int[] target = Target(Entry.Name, batch.Labels, batch.LabelPad, s, width, k);
            List<int> kept = Kept(batch.FramePad, s, frames);
            int needed = target.Length;
            for (int n = 1; n < target.Length; n++) if (target[n] == target[n - 1]) needed++;
            if (needed > kept.Count) throw TooFewFrames(s, target, kept.Count);
            ReadOnlySpan<long> labels = batch.Labels.AsSpan(s * width, width);
            // Optax compares every adjacent pair, padding included; the last label has no successor.
            for (int n = 0; n < width; n++) repeat[n] = n + 1 < width && labels[n] == labels[n + 1];
            Array.Fill(phi, logEpsilon);
            Array.Fill(emit, logEpsilon);
            phi[0] = 0;
            for (int t = 0; t < frames; t++)
            {
                if (batch.FramePad[s * frames + t] == 0)
                {
                    Stable.LogSoftmax(batch.Logits.AsSpan((s * frames + t) * k, k), logp);
                    double blank = logp[blankId];
                    // ε-transition: label n passes to blank state n + 1, unless label n + 1 repeats it.
                    passed[0] = phi[0];
                    for (int n = 0; n < width; n++) passed[n + 1] = Stable.LogAddExp(phi[n + 1], emit[n] + (repeat[n] ? logEpsilon : 0));
                    for (int n = 0; n < width; n++)
                    {
                        long label = labels[n];
                        double emitted = label >= 0 && label < k ? logp[label] : 0;
                        nextEmit[n] = Stable.LogAddExp(passed[n] + emitted, emit[n] + emitted);
                    }
                    nextPhi[0] = passed[0] + blank;
                    // A blank after label n reaches blank state n + 1 directly only before a repeat (otherwise through ε).
                    for (int n = 0; n < width; n++) nextPhi[n + 1] = Stable.LogAddExp(passed[n + 1] + blank, emit[n] + blank + (repeat[n] ? 0 : logEpsilon));
                    (phi, nextPhi) = (nextPhi, phi);
                    (emit, nextEmit) = (nextEmit, emit);
                }
                phi.CopyTo(blankTable.AsSpan((t * b + s) * (width + 1), width + 1));
                emit.CopyTo(labelTable.AsSpan((t * b + s) * width, width));
            }
            // The last ε-transition (into every blank state, repeats included) completes the paths that end in a label.
            for (int n = width - 1; n >= 0; n--) phi[n + 1] = Stable.LogAddExp(phi[n + 1], emit[n]);
            if (frames > 0) phi.CopyTo(blankTable.AsSpan(((frames - 1) * b + s) * (width + 1), width + 1));
            losses[s] = -phi[target.Length];
        }
        bool single = inputs["logits"].DType == DType.Float32;
        TensorData Make(double[] data, Shape shape) => single ? FromDoubles<float>(data, shape) : FromDoubles<double>(data, shape);
        return new(Make(losses, new Shape(b)), Make(blankTable, new Shape(frames, b, width + 1)), Make(labelTable, new Shape(frames, b, width)));
    }
}
