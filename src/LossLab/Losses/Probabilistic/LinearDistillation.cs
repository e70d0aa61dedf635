using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Losses.Probabilistic;

/// <summary>
/// The frame Liger-Kernel's fused linear distillation losses share (<c>LigerFusedLinearDistillationBase</c>): the
/// student's logits z_s = H_s·W_sᵀ + b_s (N, V_s) and the teacher's z_t = H_t·W_tᵀ + b_t (N, V_t), a hard loss (the
/// student's cross-entropy on the labels, unscaled logits) and a soft loss between z_s/T and z_t/T, combined as
/// w_hard·hard + w_soft·soft and divided by the number of counted rows (labels other than ignore_index, at least 1).
/// </summary>
/// <remarks>
/// <para>Computed in chunks of rows in double: each chunk's logits of both models by a blocked double product
/// (GemmF64) against a transposed copy of each vocabulary matrix, at most 2¹⁸ logits of each model held at once (one row
/// when V is larger), never the N×V logits (the point of the fused losses); the gradients by two
/// more products per chunk. Where the teacher's vocabulary is larger (a padded embedding table), the student's scaled
/// logits are padded with zeros to V_t, as Liger does; a smaller teacher vocabulary is an error. At N = 256, D = 256,
/// V = 8192, value and gradients take 0.30 s on one core of this host (1.1 s one row at a time).</para>
/// <para><b>Gradients</b> reach the student only (Liger computes the teacher under no_grad): with g = ∂ℓ/∂z_s per row,
/// ∂H_s = g·W_s, ∂W_s = Σ_rows gᵀ·h_s, ∂b_s = Σ_rows g, where g = w_hard·(softmax(z_s) − onehot(y)) + (w_soft/T)·∂soft/∂(z_s/T)
/// on the first V_s entries, times the reduction's scale.</para>
/// </remarks>
internal static class LinearDistillation
{
    /// <summary>The options every fused linear distillation loss has (Liger's names in the registry).</summary>
    internal sealed record Settings(double WeightHard, double WeightSoft, long IgnoreIndex, double Temperature, Reduction Reduction)
    {
        public Settings Checked(string name)
        {
            if (!double.IsFinite(WeightHard) || !double.IsFinite(WeightSoft))
                throw LossArgumentException.Value($"{name}: weight_hard_loss and weight_soft_loss must be finite, got {WeightHard} and {WeightSoft}");
            if (!(Temperature != 0 && double.IsFinite(Temperature)))
                throw LossArgumentException.Value($"{name}: temperature must be a finite number other than 0, got {Temperature}");
            if (Reduction is not (Reduction.None or Reduction.Sum or Reduction.Mean))
                throw LossArgumentException.Value($"{name}: reduction must be none, sum or mean, got {Reduction.Name()}");
            return this;
        }
    }

    /// <summary>
    /// One row's soft loss between the student's and the teacher's scaled logits (each of length V_t); writes its slope
    /// with respect to the student's scaled logits into <paramref name="dStudent"/> unless that is empty.
    /// </summary>
    internal delegate double SoftRow(ReadOnlySpan<double> student, ReadOnlySpan<double> teacher, bool counted, Span<double> dStudent);

    internal readonly record struct Outcome(double[] Rows, double Value, double[]? GradInput, double[]? GradWeight, double[]? GradBias);

    /// <summary>The shared inputs, in Liger's order and names.</summary>
    internal static InputSpec[] Inputs { get; } =
    [
        new("student_input", InputKind.Floating, true, "the student's hidden states H_s (N, D_s)"),
        new("student_weight", InputKind.Floating, true, "the student's vocabulary matrix W_s (V_s, D_s)"),
        new("teacher_input", InputKind.Floating, false, "the teacher's hidden states H_t (N, D_t) (no gradient, as Liger)"),
        new("teacher_weight", InputKind.Floating, false, "the teacher's vocabulary matrix W_t (V_t, D_t), V_t ≥ V_s (no gradient)"),
        new("true_labels", InputKind.Indices, false, "class indices (N) for the hard loss, or ignore_index"),
        new("student_bias", InputKind.Floating, true, "the student's bias (V_s)") { Optional = true },
        new("teacher_bias", InputKind.Floating, false, "the teacher's bias (V_t)") { Optional = true },
    ];

    /// <summary>The options both losses share; <paramref name="betaDefault"/> and its description are the loss's own.</summary>
    internal static OptionSpec[] Options(double betaDefault, string betaDescription, string temperatureDescription) =>
    [
        OptionSpec.Choice("reduction", "mean", "none (rows), sum, or mean: Σ / counted rows (Liger's value)", "none", "sum", "mean"),
        OptionSpec.Float("weight_hard_loss", 0.5, "weight of the hard loss, the student's cross-entropy on true_labels"),
        OptionSpec.Float("weight_soft_loss", 0.5, "weight of the soft (distillation) loss"),
        OptionSpec.Float("beta", betaDefault, betaDescription),
        OptionSpec.Int("ignore_index", -100, "rows with this label have no hard loss and are not counted"),
        OptionSpec.Float("temperature", 1.0, temperatureDescription),
    ];

    /// <summary>Sample inputs for the contract tests: N rows, D_s (default 4 × 3), D_t = D_s + 1, V_s = 5, V_t = 5 or 6 (padded).</summary>
    internal static LossInputs Sample(Random r, Shape s)
    {
        int n = s.Rank == 2 ? s[0] : 4, d = s.Rank == 2 ? s[1] : 3, vt = r.Next(2) == 0 ? 5 : 6;
        return new LossInputs()
            .Add("student_input", Samples.Normal(r, new Shape(n, d))).Add("student_weight", Samples.Normal(r, new Shape(5, d)))
            .Add("teacher_input", Samples.Normal(r, new Shape(n, d + 1))).Add("teacher_weight", Samples.Normal(r, new Shape(vt, d + 1)))
            .Add("true_labels", Samples.Classes(r, new Shape(n), 5)).Add("student_bias", Samples.Normal(r, new Shape(5)));
    }

    internal static Outcome Compute(LossInputs inputs, string name, Settings s, SoftRow soft, bool computeGradients)
    {
        Shape hs = inputs["student_input"].Shape, ws = inputs["student_weight"].Shape, ht = inputs["teacher_input"].Shape, wt = inputs["teacher_weight"].Shape;
        if (hs.Rank != 2) throw LossArgumentException.Shape($"{name}: 'student_input' must be hidden states (N, D_s), got shape {hs}");
        int n = hs[0], ds = hs[1];
        if (ws.Rank != 2 || ws[1] != ds || ws[0] == 0) throw LossArgumentException.Shape($"{name}: 'student_weight' has shape {ws}; expected (V_s, D_s) = (V_s, {ds}) for student_input {hs}");
        if (ht.Rank != 2 || ht[0] != n) throw LossArgumentException.Shape($"{name}: 'teacher_input' has shape {ht}; expected (N, D_t) = ({n}, D_t), one row per row of student_input");
        int dt = ht[1], vs = ws[0];
        if (wt.Rank != 2 || wt[1] != dt) throw LossArgumentException.Shape($"{name}: 'teacher_weight' has shape {wt}; expected (V_t, D_t) = (V_t, {dt}) for teacher_input {ht}");
        int vt = wt[0];
        if (vt < vs) throw LossArgumentException.Shape($"{name}: 'teacher_weight' has shape {wt}: the teacher's vocabulary ({vt}) is smaller than the student's ({vs}); only the student's logits are padded (Liger)");
        Shape ls = inputs["true_labels"].Shape;
        if (ls != new Shape(n)) throw LossArgumentException.Shape($"{name}: 'true_labels' has shape {ls}; expected ({n}), one label per row of student_input");
        double[]? bs = Bias(inputs, "student_bias", vs, name), bt = Bias(inputs, "teacher_bias", vt, name);
        long[] labels = inputs.Indices("true_labels");
        for (int i = 0; i < n; i++)
            if (labels[i] != s.IgnoreIndex && (labels[i] < 0 || labels[i] >= vs))
                throw LossArgumentException.Value($"{name}: true_labels[{i}] = {labels[i]} is outside the student's vocabulary [0, {vs}) (and not ignore_index {s.IgnoreIndex})");
        double[] h = inputs["student_input"].ToArray<double>(), w = inputs["student_weight"].ToArray<double>();
        double[] th = inputs["teacher_input"].ToArray<double>(), tw = inputs["teacher_weight"].ToArray<double>();
        double denominator = Math.Max(1, labels.Count(y => y != s.IgnoreIndex));
        double scale = Reducer.Scale(s.Reduction, denominator), invT = 1 / s.Temperature;

        var rows = new double[n];
        double[]? gh = computeGradients ? new double[h.Length] : null, gw = computeGradients ? new double[w.Length] : null;
        double[]? gb = computeGradients && bs is not null ? new double[vs] : null;
        // Chunks of rows whose logits are blocked double products (GemmF64): Z = H·Wᵀ with Wᵀ transposed once, and the
        // gradients ∂H = G·W, ∂W += Gᵀ·H per chunk. At most 2¹⁸ logits of each model are held at once.
        double[] wT = GemmF64.Transposed(w, vs, ds), twT = GemmF64.Transposed(tw, vt, dt);
        int chunk = Math.Max(1, Math.Min(n, (1 << 18) / vt));
        var zsChunk = new double[chunk * vs];
        var ztChunk = new double[chunk * vt];
        var gChunk = computeGradients ? new double[chunk * vs] : null;
        var gChunkT = computeGradients ? new double[vs * chunk] : null;
        var zs = new double[vt];        // one row of the student's logits, then scaled and padded
        var dSoft = computeGradients ? new double[vt] : null;
        for (int r0 = 0; r0 < n; r0 += chunk)
        {
            int rowsHere = Math.Min(chunk, n - r0);
            GemmF64.Affine(h.AsSpan(r0 * ds, rowsHere * ds), wT, bs, zsChunk, rowsHere, ds, vs);
            GemmF64.Affine(th.AsSpan(r0 * dt, rowsHere * dt), twT, bt, ztChunk, rowsHere, dt, vt);
            for (int r = 0; r < rowsHere; r++)
            {
                int i = r0 + r;
                zsChunk.AsSpan(r * vs, vs).CopyTo(zs);
                Span<double> zt = ztChunk.AsSpan(r * vt, vt);
                Span<double> g = gChunk is null ? default : gChunk.AsSpan(r * vs, vs);
                bool counted = labels[i] != s.IgnoreIndex;
                double hard = 0;
                if (counted)
                {
                    hard = Stable.SoftmaxCrossEntropy(zs.AsSpan(0, vs), (int)labels[i], g);
                    for (int j = 0; j < g.Length; j++) g[j] *= s.WeightHard;
                }
                else g.Clear();
                for (int j = 0; j < vs; j++) zs[j] *= invT;
                Array.Clear(zs, vs, vt - vs);
                for (int j = 0; j < vt; j++) zt[j] *= invT;
                double softValue = soft(zs, zt, counted, dSoft);
                rows[i] = s.WeightHard * hard + s.WeightSoft * softValue;
                for (int j = 0; j < g.Length; j++) g[j] = scale * (g[j] + s.WeightSoft * invT * dSoft![j]);
            }
            if (gChunk is null) continue;
            // ∂H_chunk = G·W (rows × V_s · V_s × D_s), ∂W += Gᵀ·H_chunk, ∂b += Σ_rows G.
            GemmF64.AffineBackward(gChunk, h.AsSpan(r0 * ds, rowsHere * ds), w, gh.AsSpan(r0 * ds, rowsHere * ds), gw, gb, gChunkT, rowsHere, ds, vs);
        }
        double value = s.Reduction == Reduction.None ? double.NaN : Reducer.Reduce<double>(rows, s.Reduction, denominator).Value;
        return new(rows, value, gh, gw, gb);
    }

    /// <summary>The outcome as the loss result: the value (the rows for none), gradients for the student's input, weight and bias.</summary>
    internal static LossResult Result<T>(Outcome o, LossInputs inputs, Reduction reduction) where T : struct, System.Numerics.IFloatingPointIeee754<T>
    {
        TensorData value = reduction == Reduction.None ? Loss.FromDoubles<T>(o.Rows, new Shape(o.Rows.Length)) : Loss.FromDoubles<T>([o.Value], Shape.Scalar);
        if (o.GradInput is null) return Loss.Result(value);
        return Loss.Result(value,
            ("student_input", Loss.FromDoubles<T>(o.GradInput, inputs["student_input"].Shape)),
            ("student_weight", Loss.FromDoubles<T>(o.GradWeight!, inputs["student_weight"].Shape)),
            ("student_bias", o.GradBias is null ? null : Loss.FromDoubles<T>(o.GradBias, inputs["student_bias"].Shape)));
    }

    private static double[]? Bias(LossInputs inputs, string key, int v, string name)
    {
        if (!inputs.Contains(key)) return null;
        Shape bs = inputs[key].Shape;
        if (bs != new Shape(v)) throw LossArgumentException.Shape($"{name}: '{key}' has shape {bs}; expected ({v}), one per vocabulary row");
        return inputs[key].ToArray<double>();
    }
}
