using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Tests.TestKit;

/// <summary>Contract samples for the losses beyond PyTorch and Keras: noisy-label, Optax multiclass, poly and convex KL.</summary>
internal static class CatalogThree
{
    public static IEnumerable<LossSampleSet> Sets()
    {
        yield return Indexed("GeneralizedCrossEntropy", "input", "target", "mean", [T.Opt(("q", 0.3)), T.Opt(("q", 1.0))]);
        // ML.NET's binary losses take 0/1 or ±1 labels (a sample of each); margins t·x kept 0.1 away from the hinge's kink at 1.
        LossInputs MlNet(Random r)
        {
            bool signs = r.Next(2) == 0;
            double[] t = [.. Enumerable.Range(0, 12).Select(_ => r.Next(2) == 0 ? 1.0 : signs ? -1.0 : 0.0)];
            double[] x = [.. t.Select(y => (y > 0 ? 1 : -1) * (1 + (r.Next(2) == 0 ? 1 : -1) * (0.1 + 2 * r.NextDouble())))];
            return T.In(("output", T.Shaped(x, 3, 4)), ("label", T.Shaped(t, 3, 4)));
        }
        yield return new("SmoothedHingeLoss", With("SmoothedHingeLoss", [T.Opt(("smoothing", 0.5)), T.Opt(("smoothing", 0.0), ("reduction", "mean")), T.Opt(("smoothing", 3.0))], MlNet),
            [LossSamples.ExtremeOf(T.Opt(), ["output"], ("output", LossSamples.Logits()), ("label", T.F(1, 0, -1, 1, 0, 1, 1, -1)))]);
        yield return new("ExpLoss", With("ExpLoss", [T.Opt(("beta", 0.5)), T.Opt(("beta", 2.0), ("reduction", "mean"))], MlNet),
            [LossSamples.ExtremeOf(T.Opt(), ["output"], ("output", T.F(80, -80, 40, -40, 1e-30f, 0, 3, -3)), ("label", T.F(1, 0, 0, 1, -1, 1, 1, -1)))]);
        yield return Indexed("SymmetricCrossEntropy", "input", "target", "mean", [T.Opt(("alpha", 0.5), ("beta", 0.7), ("label_clamp", 1e-3))]);
        yield return Indexed("CrammerSingerHinge", "scores", "labels", "none", []);
        yield return Indexed("MulticlassPerceptron", "scores", "labels", "none", []);

        LossInputs Distill(Random r) => LossRegistry.Default.Get("DistillationLoss").Sample!(r, Shape.Scalar);
        yield return new("DistillationLoss", With("DistillationLoss", [T.Opt(("temperature", 1.0)), T.Opt(("temperature", 5.0), ("alpha", 0.3)),
            T.Opt(("alpha", 1.0), ("reduction", "sum"))], Distill),
            [LossSamples.ExtremeOf(T.Opt(("alpha", 0.5)), ("student_logits", T.Shaped(LossSamples.LogitValues, 2, 4)),
                ("teacher_logits", T.Shaped(new float[] { -1e4f, 1e4f, 0, 30, 100, -100, 5, 0 }, 2, 4)), ("target", T.I(0, 3)))]);

        LossInputs Adjusted(Random r) => LossRegistry.Default.Get("LogitAdjustedLoss").Sample!(r, Shape.Scalar);
        yield return new("LogitAdjustedLoss", With("LogitAdjustedLoss", [T.Opt(("priors", T.D(0.6, 0.2, 0.1, 0.05, 0.05))),
            T.Opt(("priors", T.D(10, 1, 1, 3, 0.1)), ("tau", 2.0), ("reduction", "sum"))], Adjusted),
            [LossSamples.ExtremeOf(T.Opt(("priors", T.D(0.9, 0.05, 0.03, 0.02))), ["input"], ("input", T.Shaped(LossSamples.LogitValues, 2, 4)), ("target", T.I(0, 3)))]);

        // smp's soft BCE and soft cross-entropy: smoothing, weights, and (for the index targets) ignored positions.
        LossInputs SoftBce(Random r) => LossRegistry.Default.Get("SoftBceWithLogitsLoss").Sample!(r, Shape.Scalar);
        yield return new("SoftBceWithLogitsLoss", With("SoftBceWithLogitsLoss", [T.Opt(("smooth_factor", 0.1)),
            T.Opt(("smooth_factor", 0.3), ("pos_weight", T.D(0.5, 2, 3, 1)), ("weight", T.D(1, 0.5, 2, 1)))], SoftBce),
            [LossSamples.ExtremeOf(T.Opt(("pos_weight", T.D(3))), ["y_pred"], ("y_pred", LossSamples.Logits()), ("y_true", T.F(1, 0, 1, 0, 1, 0, -100, 0.5f)))]);
        LossInputs SoftCe(Random r) => LossRegistry.Default.Get("SoftCrossEntropyLoss").Sample!(r, Shape.Scalar);
        yield return new("SoftCrossEntropyLoss", With("SoftCrossEntropyLoss", [T.Opt(("smooth_factor", 0.1)), T.Opt(("smooth_factor", 1.0), ("reduction", "sum")),
            T.Opt(("smooth_factor", 0.2), ("ignore_index", -100L), ("reduction", "none"))], SoftCe),
            [LossSamples.ExtremeOf(T.Opt(("smooth_factor", 0.1)), ["y_pred"], ("y_pred", T.Shaped(LossSamples.LogitValues, 2, 4)), ("y_true", T.I(0, 3)))]);

        // Liger's generalized JSD on log-values (β = 0 and 1 its KL cases), ignored rows by shift_labels; the fused linear
        // distillation losses with a padded teacher vocabulary, ignored rows, and without biases.
        LossInputs Jsd(Random r) => LossRegistry.Default.Get("GeneralizedJsdLoss").Sample!(r, Shape.Scalar);
        LossInputs JsdLabelled(Random r) { LossInputs i = Jsd(r); return i.Add("shift_labels", T.I(3, -100, 0)); }
        yield return new("GeneralizedJsdLoss", [.. With("GeneralizedJsdLoss", [T.Opt(("beta", 0.0)), T.Opt(("beta", 1.0), ("reduction", "sum")), T.Opt(("beta", 0.2))], Jsd),
            new("GeneralizedJsdLoss ignored row", T.Opt(("beta", 0.7)), JsdLabelled), new("GeneralizedJsdLoss every row ignored", T.Opt(("ignore_index", 5L)), r => Jsd(r).Add("shift_labels", T.I(5, 5, 5)))],
            [LossSamples.ExtremeOf(T.Opt(), ["_input"], ("_input", T.Shaped(new float[] { -1e4f, 0, -30, -1e-30f, -100, -1 }, 2, 3)), ("target", T.Shaped(new float[] { 0, -1e4f, -1e-30f, -30, -1, -100 }, 2, 3)))])
        {
            PlainMean = false,   // mean divides by the counted rows
        };
        foreach (string distill in new[] { "LinearJsdLoss", "LinearCosineSimilarityLoss" })
        {
            LossInputs FusedDistill(Random r) => LossRegistry.Default.Get(distill).Sample!(r, Shape.Scalar);
            LossInputs Ignoring(Random r) { LossInputs i = FusedDistill(r); return i.Add("true_labels", T.I(2, -100, 0, 4)).Add("teacher_bias", LossLab.Losses.Core.Samples.Normal(r, i["teacher_weight"].Shape.WithoutAxis(1))); }
            LossInputs Plain(Random r) { LossInputs i = FusedDistill(r); return T.In(("student_input", i["student_input"]), ("student_weight", i["student_weight"]), ("teacher_input", i["teacher_input"]), ("teacher_weight", i["teacher_weight"]), ("true_labels", i["true_labels"])); }
            yield return new(distill, [.. With(distill, [T.Opt(("beta", 0.0), ("temperature", 2.0)), T.Opt(("beta", 1.0), ("weight_hard_loss", 0.0), ("weight_soft_loss", 1.0)),
                T.Opt(("temperature", 0.5), ("weight_hard_loss", 1.0))], FusedDistill),
                new(distill + " ignored row", T.Opt(("beta", 0.3)), Ignoring), new(distill + " without biases", T.Opt(("reduction", "sum")), Plain)],
                [LossSamples.ExtremeOf(T.Opt(), ["student_input", "student_weight"], ("student_input", T.Shaped(new float[] { 1e2f, 1e2f, -30, 1e-30f }, 2, 2)),
                    ("student_weight", T.Shaped(new float[] { 1e2f, -1e2f, 0, 1, 30, -30 }, 3, 2)), ("teacher_input", T.Shaped(new float[] { -1e2f, 1e2f, 30, 0 }, 2, 2)),
                    ("teacher_weight", T.Shaped(new float[] { 1e2f, 0, -1e2f, 1, 30, 30, 0, 1 }, 4, 2)), ("true_labels", T.I(0, 2)))])
            {
                PlainMean = false,   // mean divides by the labelled rows
            };
        }

        // Liger's cross-entropy: the soft cap, class weights, ignored rows, label smoothing and the z-loss.
        LossInputs LigerCe(Random r) => LossRegistry.Default.Get("LigerCrossEntropyLoss").Sample!(r, Shape.Scalar);
        yield return new("LigerCrossEntropyLoss", [.. With("LigerCrossEntropyLoss", [T.Opt(("label_smoothing", 0.2), ("lse_square_scale", 0.1)), T.Opt(("softcap", 1.5)),
            T.Opt(("weight", T.D(1, 2, 0.5, 1, 3)), ("lse_square_scale", 0.05), ("softcap", 4.0))], LigerCe),
            new("LigerCrossEntropyLoss ignored row", T.Opt(("softcap", 3.0), ("weight", T.D(1, 2, 0.5, 1, 3))), r => LigerCe(r).Add("target", T.I(2, -100, 0, 4)))],
            [LossSamples.ExtremeOf(T.Opt(("softcap", 30.0)), ["_input"], ("_input", T.Shaped(LossSamples.LogitValues, 2, 4)), ("target", T.I(0, 3)))])
        {
            PlainMean = false,   // mean divides by the counted rows (or their class weights)
        };

        // Liger's fused linear cross-entropy: the logits H·Wᵀ + b, the bias optional, options as cross-entropy's plus softcap.
        LossInputs Linear(Random r) => LossRegistry.Default.Get("LinearCrossEntropyLoss").Sample!(r, Shape.Scalar);
        LossInputs LinearIgnoring(Random r) { LossInputs i = Linear(r); return i.Add("target", T.I(2, -100, 0, 4)); }
        LossInputs NoBias(Random r) { LossInputs i = Linear(r); return T.In(("lin_weight", i["lin_weight"]), ("_input", i["_input"]), ("target", i["target"])); }
        yield return new("LinearCrossEntropyLoss", [.. With("LinearCrossEntropyLoss", [T.Opt(("label_smoothing", 0.2), ("lse_square_scale", 0.1)), T.Opt(("softcap", 1.5)),
            T.Opt(("ce_weight", T.D(1, 2, 0.5, 1, 3)), ("lse_square_scale", 0.05))], Linear),
            new("LinearCrossEntropyLoss ignored row", T.Opt(("softcap", 3.0), ("ce_weight", T.D(1, 2, 0.5, 1, 3)), ("lse_square_scale", 0.05)), LinearIgnoring),
            new("LinearCrossEntropyLoss without bias", T.Opt(("reduction", "sum")), NoBias)],
            [LossSamples.ExtremeOf(T.Opt(("softcap", 30.0)), ["_input", "lin_weight"], ("lin_weight", T.Shaped(new float[] { 1e2f, -1e2f, 0, 1, 30, -30 }, 3, 2)),
                ("_input", T.Shaped(new float[] { 1e2f, 1e2f, -30, 1e-30f }, 2, 2)), ("target", T.I(0, 2)))])
        {
            PlainMean = false,   // mean divides by the counted rows (or their class weights)
        };

        // PyTorch's adaptive softmax: the head's and the clusters' weights are inputs (its state_dict names). The registry's
        // sample (in_features 16, shortlist 3, clusters [3, 6) and [6, 9)), without the head's bias, with the cutoffs and
        // n_classes given, unbatched, and one cluster with div_value 2.
        LossInputs Adaptive(Random r) => LossRegistry.Default.Get("AdaptiveLogSoftmaxWithLoss").Sample!(r, Shape.Scalar);
        LossInputs AdaptiveNoBias(Random r) => new(Adaptive(r).Tensors.Where(kv => kv.Key != "head.bias"));
        LossInputs AdaptiveUnbatched(Random r)
        {
            LossInputs i = Adaptive(r);
            var result = new LossInputs(i.Tensors.Where(kv => kv.Key is not ("input" or "target")));
            return result.Add("input", T.Shaped(LossSamples.Normal(r, 16), 16)).Add("target", T.Shaped(new long[] { r.Next(9) }));
        }
        LossInputs AdaptiveOneCluster(Random r) => T.In(("input", T.Shaped(LossSamples.Normal(r, 24), 4, 6)), ("target", T.I(0, 1, 3, 5)),
            ("head.weight", T.Shaped(LossSamples.Normal(r, 18), 3, 6)), ("tail.0.0.weight", T.Shaped(LossSamples.Normal(r, 18), 3, 6)),
            ("tail.0.1.weight", T.Shaped(LossSamples.Normal(r, 12), 4, 3)));
        float[] big = [.. Enumerable.Range(0, 48).Select(k => (k % 3 - 1) * (k % 5 == 0 ? 1e3f : 30f))];
        yield return new("AdaptiveLogSoftmaxWithLoss", [.. With("AdaptiveLogSoftmaxWithLoss", [T.Opt(("cutoffs", T.D(3, 6)), ("n_classes", 9L))], Adaptive),
            new("AdaptiveLogSoftmaxWithLoss without head.bias", T.Opt(("reduction", "sum")), AdaptiveNoBias),
            new("AdaptiveLogSoftmaxWithLoss unbatched", T.Opt(), AdaptiveUnbatched),
            new("AdaptiveLogSoftmaxWithLoss one cluster, div_value 2", T.Opt(("div_value", 2.0), ("cutoffs", T.D(2))), AdaptiveOneCluster)],
            [LossSamples.ExtremeOf(T.Opt(("div_value", 16.0)), ("input", T.Shaped(big[..32], 2, 16)), ("target", T.I(0, 3)),
                ("head.weight", T.Shaped(big[16..], 2, 16)), ("tail.0.0.weight", T.Shaped(big[..16], 1, 16)), ("tail.0.1.weight", T.F2(new float[,] { { 1e3f }, { -30 }, { 0 } })))]);

        // Wing loss: errors of a few units on both sides of the width (5 by default, 1 in one sample).
        LossInputs Wing(Random r) => LossRegistry.Default.Get("WingLoss").Sample!(r, Shape.Scalar);
        yield return new("WingLoss", With("WingLoss", [T.Opt(("width", 1.0), ("curvature", 0.1)), T.Opt(("width", 10.0), ("curvature", 2.0))], Wing),
            [LossSamples.ExtremeOf(T.Opt(), ("output", T.F(1e4f, -1e4f, 0, 1e-30f, 3, -30)), ("target", T.F(-1e4f, 1e4f, 1e-30f, 0, 3, 30)))]);

        LossInputs Pairs(Random r) => LossRegistry.Default.Get("DpoLoss").Sample!(r, Shape.Scalar);
        LossInputs PairsWithNll(Random r) => Pairs(r).Add("policy_nll_loss", TensorData.Create(Shape.Scalar, DType.Float64, new[] { 0.5 + r.NextDouble() }));
        yield return new("DpoLoss", With("DpoLoss", [T.Opt(("label_smoothing", 0.2)), T.Opt(("loss_type", "robust"), ("label_smoothing", 0.1)),
            T.Opt(("loss_type", "hinge"), ("beta", 0.05)), T.Opt(("loss_type", "ipo"), ("beta", 0.5)), T.Opt(("reference_free", true), ("beta", 1.0)),
            T.Opt(("loss_type", "exo_pair"), ("beta", 0.5)), T.Opt(("loss_type", "exo_pair"), ("label_smoothing", 0.2), ("f_divergence_type", "js_divergence")),
            T.Opt(("loss_type", "nca_pair"), ("beta", 0.5)), T.Opt(("loss_type", "sppo_hard")), T.Opt(("loss_type", "aot"), ("beta", 0.5), ("label_smoothing", 0.1)),
            T.Opt(("loss_type", "aot_pair"), ("beta", 0.5)), T.Opt(("loss_type", "apo_zero"), ("beta", 0.5)), T.Opt(("loss_type", "apo_down"), ("beta", 0.5), ("reference_free", true)),
            T.Opt(("loss_type", "discopop"), ("beta", 0.5)), T.Opt(("loss_type", "discopop"), ("discopop_tau", 1.0)),
            T.Opt(("f_divergence_type", "alpha_divergence"), ("alpha_divergence_coef", 0.5)), T.Opt(("loss_type", "ipo"), ("f_divergence_type", "js_divergence"), ("reference_free", true))], Pairs)
                .Concat([new LossSample("DpoLoss rpo_alpha=0.5 (RPO)", T.Opt(("rpo_alpha", 0.5)), PairsWithNll), new LossSample("DpoLoss loss_type=sft", T.Opt(("loss_type", "sft")), PairsWithNll),
                    new LossSample("DpoLoss loss_type=aot rpo_alpha=1 reduction=sum", T.Opt(("loss_type", "aot"), ("rpo_alpha", 1.0), ("reduction", "sum")), PairsWithNll)]).ToList(),
            [.. new[] { "sigmoid", "exo_pair", "nca_pair", "sppo_hard", "aot", "apo_down", "discopop" }.Select(type => LossSamples.ExtremeOf(T.Opt(("loss_type", type)),
                ("policy_chosen_logps", T.F(-1e4f, 0, -3e4f)), ("policy_rejected_logps", T.F(0, -1e4f, -1)),
                ("reference_chosen_logps", T.F(-5, -5, 0)), ("reference_rejected_logps", T.F(-5, -5, -2e4f))))]);

        // GRPO: one value per batch (loss_type is its reduction); ratios e^{±0.5} straddle the clip range, β > 0 needs the reference.
        LossInputs Grpo(Random r) => LossRegistry.Default.Get("GrpoLoss").Sample!(r, Shape.Scalar);
        yield return new("GrpoLoss", [new("GrpoLoss (defaults)", T.Opt(), Grpo), new("GrpoLoss beta=0.04 loss_type=bnpo", T.Opt(("beta", 0.04), ("loss_type", "bnpo")), Grpo),
            new("GrpoLoss epsilon=0.1 epsilon_high=0.28 loss_type=dr_grpo beta=0.5", T.Opt(("epsilon", 0.1), ("epsilon_high", 0.28), ("loss_type", "dr_grpo"), ("beta", 0.5)), Grpo),
            new("GrpoLoss loss_type=dr_grpo max_completion_length=7", T.Opt(("loss_type", "dr_grpo"), ("max_completion_length", 7L)), Grpo),
            new("GrpoLoss loss_type=dapo", T.Opt(("loss_type", "dapo")), Grpo),
            new("GrpoLoss loss_type=dapo num_items_in_batch=20", T.Opt(("loss_type", "dapo"), ("num_items_in_batch", 20.0)), Grpo),
            new("GrpoLoss importance_sampling_level=sequence (GSPO) beta=0.04", T.Opt(("importance_sampling_level", "sequence"), ("beta", 0.04)), Grpo),
            new("GrpoLoss importance_sampling_level=sequence loss_type=bnpo epsilon=0.05", T.Opt(("importance_sampling_level", "sequence"), ("loss_type", "bnpo"), ("epsilon", 0.05)), Grpo)],
            [LossSamples.ExtremeOf(T.Opt(("beta", 0.1)), ["per_token_logps"], ("per_token_logps", T.Shaped(new float[] { -30, 0, -1e-30f, -20 }, 2, 2)), ("advantages", T.F(1e4f, -1e4f)),
                ("old_per_token_logps", T.Shaped(new float[] { -35, -10, 0, -1 }, 2, 2)), ("ref_per_token_logps", T.Shaped(new float[] { -40, 0, -30, -20 }, 2, 2)))]);
        LossInputs Kto(Random r) => LossRegistry.Default.Get("KtoLoss").Sample!(r, Shape.Scalar);
        yield return new("KtoLoss", With("KtoLoss", [T.Opt(("beta", 0.5), ("undesirable_weight", 1.5)), T.Opt(("beta", 2.0), ("desirable_weight", 0.3)),
            T.Opt(("loss_type", "apo_zero_unpaired"), ("beta", 0.5))], Kto),
            [LossSamples.ExtremeOf(T.Opt(), ["policy_chosen_logps", "policy_rejected_logps", "reference_chosen_logps", "reference_rejected_logps"], ("policy_chosen_logps", T.F(-1e4f, 0)), ("policy_rejected_logps", T.F(0, -3e4f, -1)), ("policy_KL_logps", T.F(-5, -5)),
                ("reference_chosen_logps", T.F(0, -1e4f)), ("reference_rejected_logps", T.F(-2e4f, 0, -1)), ("reference_KL_logps", T.F(-1e4f, 0)))]);
        LossInputs PolicyPairs(Random r) => LossRegistry.Default.Get("SimPoLoss").Sample!(r, Shape.Scalar);
        yield return new("SimPoLoss", With("SimPoLoss", [T.Opt(("beta", 2.0), ("gamma", 1.0)), T.Opt(("label_smoothing", 0.3), ("gamma", -0.5))], PolicyPairs),
            [LossSamples.ExtremeOf(T.Opt(("beta", 100.0)), ("policy_chosen_logps", T.F(-1e4f, 0, -30, -1e-30f)), ("policy_rejected_logps", T.F(0, -1e4f, -1, -1e4f)))]);
        // CPO: every loss type, AlphaPO's reward on both sides of α = 0, the batch's NLL term in every pair.
        LossInputs CpoPairs(Random r) => LossRegistry.Default.Get("CpoLoss").Sample!(r, Shape.Scalar);
        yield return new("CpoLoss", With("CpoLoss", [T.Opt(("beta", 2.0), ("label_smoothing", 0.2)), T.Opt(("loss_type", "hinge"), ("beta", 1.5)),
                T.Opt(("loss_type", "ipo"), ("beta", 0.5), ("reduction", "sum")), T.Opt(("loss_type", "simpo"), ("beta", 2.0), ("simpo_gamma", 1.0), ("cpo_alpha", 0.3)),
                T.Opt(("loss_type", "alphapo"), ("alpha", 0.25), ("beta", 2.5)), T.Opt(("alpha", -0.5), ("beta", 1.0), ("cpo_alpha", 2.0), ("reduction", "none"))], CpoPairs),
            [LossSamples.ExtremeOf(T.Opt(("beta", 100.0)), ["policy_chosen_logps", "policy_rejected_logps"], ("policy_chosen_logps", T.F(-1e4f, 0, -30, -1e-30f)), ("policy_rejected_logps", T.F(0, -1e4f, -1, -1e4f))),
             LossSamples.ExtremeOf(T.Opt(("alpha", 0.005), ("loss_type", "simpo")), ["policy_chosen_logps", "policy_rejected_logps"], ("policy_chosen_logps", T.F(-1e4f, 0, -30, -1e-30f)), ("policy_rejected_logps", T.F(0, -1e4f, -1, -1e4f)))]);
        // ORPO's odds need log-probabilities < 0; the extremes go to −1e4 and to a hair below 0, where 1 − e^c cancels.
        yield return new("OrpoLoss", With("OrpoLoss", [T.Opt(("beta", 1.0)), T.Opt(("beta", 0.5))], PolicyPairs),
            [LossSamples.ExtremeOf(T.Opt(), ("policy_chosen_logps", T.F(-1e4f, -1e-6f, -30, -1e-30f)), ("policy_rejected_logps", T.F(-1e-6f, -1e4f, -1e-3f, -1e4f)))]);

        yield return new("PolyCrossEntropy", With("PolyCrossEntropy", [T.Opt(("epsilon", 0.0)), T.Opt(("epsilon", -1.0), ("reduction", "mean")),
            T.Opt(("where", T.Shaped(new double[] { 1, 1, 0, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 0 }, 4, 5)))], r =>
            T.In(("logits", T.Shaped(LossSamples.Normal(r, 20, 2), 4, 5)), ("labels", T.Shaped(KerasSamples.SimplexRows(r, 20), 4, 5)))),
            [LossSamples.ExtremeOf(T.Opt(), ["logits"], ("logits", T.Shaped(new float[] { 1e4f, -1e4f, 30, -30, 0, 100, -100, 5 }, 2, 4)), ("labels", T.Shaped(new float[] { 0, 1, 0, 0, 0.5f, 0, 0.5f, 0 }, 2, 4)))]);

        yield return SparseFocal();
        // Finite differences see the value, so the contract uses the true gradient (detach_weights = false); the
        // paper's detached gradient is checked against autograd in CircleLossTests.
        var circle = With("CircleLoss", [T.Opt(("m", 0.25), ("gamma", 4.0))], r =>
            T.In(("embeddings", T.Shaped(LossSamples.Normal(r, 28), 7, 4)), ("labels", T.I(0, 0, 1, 1, 2, 2, r.Next(2) == 0 ? 1 : 3))));
        foreach (var sample in circle)
        {
            sample.Options["detach_weights"] = false;
            if (!sample.Options.ContainsKey("gamma")) sample.Options["gamma"] = 8.0;
        }
        yield return new("CircleLoss", circle,
            [LossSamples.ExtremeOf(T.Opt(), ["embeddings"], ("embeddings", T.Shaped(new float[] { 1e4f, -1e4f, 0, 0, 1e-30f, 1, -30, 30 }, 4, 2)), ("labels", T.I(0, 0, 1, 1)))])
        {
            PlainMean = false,   // mean is the AvgNonZero over anchors
        };
        yield return new("MultiSimilarityLoss", With("MultiSimilarityLoss", [T.Opt(("alpha", 1.5), ("beta", 10.0), ("base", 0.2))], r =>
            T.In(("embeddings", T.Shaped(LossSamples.Normal(r, 28), 7, 4)), ("labels", T.I(0, 0, 1, 1, 2, 2, r.Next(2) == 0 ? 1 : 3)))),
            [LossSamples.ExtremeOf(T.Opt(), ["embeddings"], ("embeddings", T.Shaped(new float[] { 1e4f, -1e4f, 0, 0, 1e-30f, 1, -30, 30 }, 4, 2)), ("labels", T.I(0, 0, 1, 1)))]);
        // pytorch-metric-learning's lifted-structure, tuplet-margin and intra-pair-variance losses (labels as above: a
        // singleton class, or three pairs).
        LossInputs Labeled(Random r) => T.In(("embeddings", T.Shaped(LossSamples.Normal(r, 28), 7, 4)), ("labels", T.I(0, 0, 1, 1, 2, 2, r.Next(2) == 0 ? 1 : 3)));
        ExtremeSample[] PmlExtremes(Dictionary<string, object?> options) =>
            [LossSamples.ExtremeOf(options, ["embeddings"], ("embeddings", T.Shaped(new float[] { 1e4f, -1e4f, 0, 0, 1e-30f, 1, -30, 30 }, 4, 2)), ("labels", T.I(0, 0, 1, 1)))];
        yield return new("GeneralizedLiftedStructureLoss", With("GeneralizedLiftedStructureLoss", [T.Opt(("neg_margin", 0.7), ("pos_margin", 0.2)),
            T.Opt(("normalize_embeddings", false), ("neg_margin", 2.5))], Labeled), PmlExtremes(T.Opt()));
        yield return new("LiftedStructureLoss", With("LiftedStructureLoss", [T.Opt(("neg_margin", 0.7), ("pos_margin", 0.2)),
            T.Opt(("normalize_embeddings", false), ("neg_margin", 2.5))], Labeled), PmlExtremes(T.Opt()))
        {
            PlainMean = false,   // mean divides by the ordered positive pairs
        };
        yield return new("TupletMarginLoss", With("TupletMarginLoss", [T.Opt(("scale", 8.0)), T.Opt(("margin", 30.0), ("scale", 2.0))], Labeled), PmlExtremes(T.Opt()))
        {
            PlainMean = false,   // mean divides by the ordered positive pairs
        };
        yield return new("IntraPairVarianceLoss", With("IntraPairVarianceLoss", [T.Opt(("pos_eps", 0.2), ("neg_eps", -0.3))], Labeled), PmlExtremes(T.Opt()))
        {
            PlainMean = false,   // mean is the positive pairs' mean plus the negative pairs' mean
        };
        // The margin loss with β as the option, a learned scalar and one learned β per class (labels 0..3).
        LossInputs WithBeta(Random r, int count) { LossInputs i = Labeled(r); return i.Add("beta", count == 0 ? T.D(1.1) : T.Shaped(LossSamples.Uniform(r, count, 0.6, 1.4), count)); }
        yield return new("MarginLoss", [.. With("MarginLoss", [T.Opt(("margin", 0.3), ("beta", 1.0)), T.Opt(("normalize_embeddings", false), ("beta", 2.5))], Labeled),
            new("MarginLoss learned beta nu=0.2", T.Opt(("nu", 0.2)), r => WithBeta(r, 0)),
            new("MarginLoss beta per class sum", T.Opt(("nu", 0.1), ("reduction", "sum")), r => WithBeta(r, 4)),
            new("MarginLoss beta per class mean", T.Opt(("nu", 0.1)), r => WithBeta(r, 4)),
            new("MarginLoss beta per class none", T.Opt(("reduction", "none")), r => WithBeta(r, 4))], PmlExtremes(T.Opt()))
        {
            PlainMean = false,   // mean divides by the non-zero terms (DivisorReducer)
        };
        // SNR distances need rows that vary across their features: the extremes keep every row non-constant.
        yield return new("SignalToNoiseRatioContrastiveLoss", With("SignalToNoiseRatioContrastiveLoss", [T.Opt(("pos_margin", 0.3), ("neg_margin", 1.5)),
            T.Opt(("normalize_embeddings", false), ("neg_margin", 2.5))], Labeled),
            [LossSamples.ExtremeOf(T.Opt(), ["embeddings"], ("embeddings", T.Shaped(new float[] { 1e4f, -1e4f, 3, 1e-30f, 1e-30f, 1, -30, 30 }, 4, 2)), ("labels", T.I(0, 0, 1, 1)))])
        {
            PlainMean = false,   // mean averages the non-zero positive and negative terms separately
        };
        yield return new("RankedListLoss", With("RankedListLoss", [T.Opt(("margin", 0.6), ("Tn", 3.0), ("Tp", 1.5), ("imbalance", 0.3)),
            T.Opt(("normalize_embeddings", false), ("alpha", 4.0), ("margin", 1.0), ("Tn", 0.5))], Labeled), PmlExtremes(T.Opt()));
        yield return new("FastApLoss", With("FastApLoss", [T.Opt(("num_bins", 4L)), T.Opt(("num_bins", 25L))], Labeled), PmlExtremes(T.Opt()))
        {
            PlainMean = false,   // mean is over the anchors with a positive
        };
        // One value per batch (no reduction option); few bins keep the pairs away from the bin edges' kinks.
        yield return new("HistogramLoss", [new("HistogramLoss n_bins=10", T.Opt(("n_bins", 10L)), Labeled), new("HistogramLoss n_bins=3", T.Opt(("n_bins", 3L)), Labeled)],
            PmlExtremes(T.Opt()));
        yield return new("SmoothApLoss", [new("SmoothApLoss", T.Opt(), Labeled), new("SmoothApLoss temperature=0.5", T.Opt(("temperature", 0.5)), Labeled),
            new("SmoothApLoss exclude_query temperature=0.2", T.Opt(("exclude_query", true), ("temperature", 0.2)), Labeled)], PmlExtremes(T.Opt()));
        yield return new("PnpLoss", [.. new[] { "O", "Ds", "Dq", "Iu", "Ib" }.Select(v => new LossSample($"PnpLoss variant={v}", T.Opt(("variant", v), ("anneal", 0.3), ("alpha", 1.5)), Labeled)),
            new LossSample("PnpLoss anneal=1", T.Opt(("anneal", 1.0)), Labeled)], PmlExtremes(T.Opt()));
        yield return new("ThresholdConsistentMarginLoss", [new LossSample("ThresholdConsistentMarginLoss", T.Opt(), Labeled),
            new LossSample("ThresholdConsistentMarginLoss contrastive", T.Opt(("base_loss", "contrastive_loss"), ("lambda_plus", 0.5), ("margin_minus", 0.1)), Labeled),
            new LossSample("ThresholdConsistentMarginLoss supcon", T.Opt(("base_loss", "supcon_loss"), ("margin_plus", 0.3), ("margin_minus", -0.2)), Labeled)],
            PmlExtremes(T.Opt()));
        yield return new("InstanceLoss", With("InstanceLoss", [T.Opt(("gamma", 4.0)), T.Opt(("gamma", 0.5))], Labeled), PmlExtremes(T.Opt()))
        {
            PlainMean = false,   // mean is the AvgNonZero over rows
        };
        yield return new("AngularLoss", With("AngularLoss", [T.Opt(("alpha", 30.0)), T.Opt(("alpha", 55.0))], Labeled), PmlExtremes(T.Opt()))
        {
            PlainMean = false,   // mean divides by the ordered positive pairs
        };
        // Self-supervised pairs of views: one value per batch, no reduction option.
        yield return new("BarlowTwinsLoss", [new("BarlowTwinsLoss", T.Opt(), r => LossRegistry.Default.Get("BarlowTwinsLoss").Sample!(r, Shape.Scalar)),
            new("BarlowTwinsLoss lambd=0.5 eps=0", T.Opt(("lambd", 0.5), ("eps", 0.0)), r => LossRegistry.Default.Get("BarlowTwinsLoss").Sample!(r, new Shape(5, 3)))],
            [LossSamples.ExtremeOf(T.Opt(), ("z_a", T.Shaped(new float[] { 1e4f, -1e4f, 0, 30, -30, 1e-30f, 5, 0 }, 4, 2)), ("z_b", T.Shaped(new float[] { -1e4f, 1e4f, 1, 0, 30, -30, 0, 5 }, 4, 2)))]);
        yield return new("VicRegLoss", [new("VicRegLoss", T.Opt(), r => LossRegistry.Default.Get("VicRegLoss").Sample!(r, Shape.Scalar)),
            new("VicRegLoss sim_coeff=1 std_coeff=10 cov_coeff=3", T.Opt(("sim_coeff", 1.0), ("std_coeff", 10.0), ("cov_coeff", 3.0)),
                r => { LossInputs v = LossRegistry.Default.Get("VicRegLoss").Sample!(r, new Shape(6, 3)); return T.In(("x", T.Shaped(T.Values(v["x"]).Select(a => a * 0.3).ToArray(), 6, 3)), ("y", v["y"])); })],
            [LossSamples.ExtremeOf(T.Opt(), ("x", T.Shaped(new float[] { 1e4f, -1e4f, 0, 30, -30, 1e-30f, 5, 0 }, 4, 2)), ("y", T.Shaped(new float[] { -1e4f, 1e4f, 1, 0, 30, -30, 0, 5 }, 4, 2)))]);
        // P2SGrad: W (D, C) as for the margin losses; its gradient is for the renormalized columns.
        // Finite differences see the renormalization, so the contract takes the value's own gradient (renorm_in_place = false);
        // pml's is checked against the straight-through autograd twin.
        var p2s = With("P2SGradLoss", [], r => T.In(("embeddings", T.Shaped(LossSamples.Normal(r, 28), 7, 4)), ("labels", T.I(0, 0, 1, 1, 2, 2, r.Next(3))),
            ("W", T.Shaped(LossSamples.Normal(r, 12), 4, 3))));
        foreach (var sample in p2s) sample.Options["renorm_in_place"] = false;
        yield return new("P2SGradLoss", p2s,
            [LossSamples.ExtremeOf(T.Opt(), ["embeddings", "W"], ("embeddings", T.Shaped(new float[] { 1e4f, -1e4f, 0, 0, 1e-30f, 1, -30, 30 }, 4, 2)), ("labels", T.I(0, 1, 1, 0)),
                ("W", T.Shaped(new float[] { 1e4f, 1, -30, 1e-3f }, 2, 2)))])
        {
            PlainMean = false,   // mean is over N·C entries; none gives each row's mean over C
        };
        foreach (string angular in new[] { "ArcFaceLoss", "CosFaceLoss", "SubCenterArcFaceLoss", "NormalizedSoftmaxLoss", "LargeMarginSoftmaxLoss", "SphereFaceLoss" })
        {
            int k = angular == "SubCenterArcFaceLoss" ? 3 : 1;   // W (D, C·K), K = 3 by default
            LossInputs Angular(Random r) => T.In(("embeddings", T.Shaped(LossSamples.Normal(r, 28), 7, 4)), ("labels", T.I(0, 0, 1, 1, 2, 2, r.Next(3))),
                ("W", T.Shaped(LossSamples.Normal(r, 12 * k), 4, 3 * k)));
            Dictionary<string, object?>[] options = angular switch
            {
                "ArcFaceLoss" => [T.Opt(("scale", 8.0)), T.Opt(("margin", 60.0), ("scale", 4.0))],
                "SubCenterArcFaceLoss" => [T.Opt(("scale", 8.0)), T.Opt(("margin", 60.0), ("scale", 4.0), ("sub_centers", 3L))],
                "NormalizedSoftmaxLoss" => [T.Opt(("temperature", 0.5)), T.Opt(("temperature", 0.1), ("reduction", "none"))],
                "LargeMarginSoftmaxLoss" or "SphereFaceLoss" => [T.Opt(("margin", 2L)), T.Opt(("margin", 3L), ("scale", 0.5)), T.Opt(("margin", 1L), ("reduction", "none")), T.Opt(("lambd", 5.0))],
                _ => [T.Opt(("scale", 8.0)), T.Opt(("margin", 0.8), ("scale", 4.0))],
            };
            yield return new(angular, With(angular, options, Angular),
                [LossSamples.ExtremeOf(T.Opt(), ["embeddings", "W"], ("embeddings", T.Shaped(new float[] { 1e4f, -1e4f, 0, 0, 1e-30f, 1, -30, 30 }, 4, 2)),
                    ("labels", T.I(0, 1, 1, 0)), ("W", T.Shaped(k == 3 ? new float[] { 1e4f, 0, -3, 1, 5, -2, 1e-30f, 1, 2, -1e4f, 0, 7 } : new float[] { 1e4f, 0, 1e-30f, 1 }, 2, 2 * k)))]);
        }
        // Liger's TVD: rows kept away from ties p_v = q_v (the kink), one row ignored in some samples.
        LossInputs Tvd(Random r) => T.In(("p", Samples.Simplex(r, new Shape(4, 5))), ("q", Samples.Simplex(r, new Shape(4, 5))));
        yield return new("TotalVariationDistance", [.. new[] { "none", "sum", "mean", "batchmean" }.Select(red => new LossSample($"TotalVariationDistance reduction={red}", T.Opt(("reduction", red)), Tvd)),
            new LossSample("TotalVariationDistance shift_labels ignore_index=7", T.Opt(("ignore_index", 7L)), r => { LossInputs i = Tvd(r); return i.Add("shift_labels", T.I(3, 7, 0, 1)); })],
            [LossSamples.ExtremeOf(T.Opt(), ["p"], ("p", T.Shaped(new float[] { 1, 0, 0, 1e-30f, 0.5f, 0.5f }, 2, 3)), ("q", T.Shaped(new float[] { 0, 0, 1, 1, 0, 1e-30f }, 2, 3)))])
        {
            PlainMean = false,   // mean divides by rows·V, batchmean (the default) by the counted rows
        };
        // smp's MCC loss: one value per batch; probabilities away from 0 and 1, hard and soft masks.
        LossInputs Mcc(Random r) => T.In(("y_pred", T.Shaped(LossSamples.Uniform(r, 18, 0.05, 0.95), 2, 1, 3, 3)),
            ("y_true", T.Shaped([.. Enumerable.Range(0, 18).Select(_ => r.Next(4) == 0 ? 0.5 : r.Next(2))], 2, 3, 3)));
        yield return new("MccLoss", [new("MccLoss", T.Opt(), Mcc), new("MccLoss eps=0.1", T.Opt(("eps", 0.1)), Mcc), new("MccLoss eps=0", T.Opt(("eps", 0.0)), Mcc)],
            [LossSamples.ExtremeOf(T.Opt(), ["y_pred"], ("y_pred", T.F(0, 1, 1e-30f, 1, 0, 0)), ("y_true", T.F(0, 1, 0, 0, 1, 0))),
             LossSamples.ExtremeOf(T.Opt(), ["y_pred"], ("y_pred", T.F(1, 1, 1, 1)), ("y_true", T.F(1, 1, 1, 1)))]);
        // Proxy Anchor: one value per batch, no reduction option.
        LossInputs Proxies(Random r) => T.In(("embeddings", T.Shaped(LossSamples.Normal(r, 28), 7, 4)), ("labels", T.I(0, 0, 1, 1, 2, 2, r.Next(3))),
            ("proxies", T.Shaped(LossSamples.Normal(r, 16), 4, 4)));
        yield return new("ProxyAnchorLoss", [new("ProxyAnchorLoss alpha=4", T.Opt(("alpha", 4.0)), Proxies), new("ProxyAnchorLoss margin=0.3 alpha=2", T.Opt(("margin", 0.3), ("alpha", 2.0)), Proxies),
            new("ProxyAnchorLoss (defaults)", T.Opt(), Proxies)],
            [LossSamples.ExtremeOf(T.Opt(), ["embeddings", "proxies"], ("embeddings", T.Shaped(new float[] { 1e4f, -1e4f, 0, 0, 1e-30f, 1, -30, 30 }, 4, 2)),
                ("labels", T.I(0, 1, 1, 0)), ("proxies", T.Shaped(new float[] { 1e4f, 0, 1e-30f, 1, -5, 2 }, 3, 2)))]);
        // SoftTriple: fc (4, 30) is 3 classes of the default K = 10, 10 of K = 3, 30 of K = 1; mean adds the regularizer
        // once, none spreads it over the rows.
        LossInputs SoftTriple(Random r) => T.In(("embeddings", T.Shaped(LossSamples.Normal(r, 24), 6, 4)), ("labels", T.I(0, 1, 2, 0, 1, r.Next(3))),
            ("fc", T.Shaped(LossSamples.Normal(r, 120), 4, 30)));
        yield return new("SoftTripleLoss", [.. With("SoftTripleLoss", [T.Opt(("centers_per_class", 3L)), T.Opt(("centers_per_class", 3L), ("la", 5.0), ("gamma", 0.5), ("margin", 0.3), ("reg_weight", 1.0)),
            T.Opt(("centers_per_class", 1L), ("reg_weight", 0.0))], SoftTriple)],
            [LossSamples.ExtremeOf(T.Opt(("centers_per_class", 2L)), ["embeddings", "fc"], ("embeddings", T.Shaped(new float[] { 1e4f, -1e4f, 0, 0, 1e-30f, 1, -30, 30 }, 4, 2)),
                ("labels", T.I(0, 1, 1, 0)), ("fc", T.Shaped(new float[] { 1e4f, 0, 1e-30f, 1, -5, 2, 3, -1e4f }, 2, 4)))])
        {
            PlainMean = false,   // mean = mean of the rows + the regularizer
        };
        // N-pairs: labels 0 and 1 give pairs (rows 0–3, 1–4), label 2 one row (or a pair, rows 2–5, in some samples).
        yield return new("NPairsLoss", With("NPairsLoss", [], r =>
            T.In(("embeddings", T.Shaped(LossSamples.Normal(r, 24), 6, 4)), ("labels", T.I(0, 1, 2, 0, 1, r.Next(2) == 0 ? 2 : 3)))),
            [LossSamples.ExtremeOf(T.Opt(), ["embeddings"], ("embeddings", T.Shaped(new float[] { 1e4f, -1e4f, 0, 0, 1e-30f, 1, -30, 30 }, 4, 2)), ("labels", T.I(0, 1, 0, 1)))])
        {
            PlainMean = false,   // mean averages the anchors
        };
        // NCA: a row without another row of its class is left out (label 3 in some samples); Proxy-NCA: every row.
        yield return new("NcaLoss", With("NcaLoss", [T.Opt(("softmax_scale", 4.0)), T.Opt(("softmax_scale", 0.5), ("reduction", "sum"))], r =>
            T.In(("embeddings", T.Shaped(LossSamples.Normal(r, 28), 7, 4)), ("labels", T.I(0, 0, 1, 1, 2, 2, r.Next(2) == 0 ? 1 : 3)))),
            [LossSamples.ExtremeOf(T.Opt(), ["embeddings"], ("embeddings", T.Shaped(new float[] { 1e4f, -1e4f, 0, 0, 1e-30f, 1, -30, 30 }, 4, 2)), ("labels", T.I(0, 0, 1, 1)))])
        {
            PlainMean = false,   // mean averages the rows that have a positive
        };
        LossInputs ProxyNca(Random r) => LossRegistry.Default.Get("ProxyNcaLoss").Sample!(r, Shape.Scalar);
        yield return new("ProxyNcaLoss", With("ProxyNcaLoss", [T.Opt(("softmax_scale", 4.0)), T.Opt(("softmax_scale", 0.25), ("reduction", "sum"))], ProxyNca),
            [LossSamples.ExtremeOf(T.Opt(("softmax_scale", 100.0)), ["embeddings", "proxies"], ("embeddings", T.Shaped(new float[] { 1e4f, -1e4f, 0, 0, 1e-30f, 1, -30, 30 }, 4, 2)),
                ("labels", T.I(0, 1, 1, 0)), ("proxies", T.Shaped(new float[] { 1e4f, 0, 1e-30f, 1, -5, 2 }, 3, 2)))]);
        // Center loss: the three reductions; extremes up to 1e4 and a centre on its embedding.
        LossInputs Centers(Random r) => LossRegistry.Default.Get("CenterLoss").Sample!(r, Shape.Scalar);
        yield return new("CenterLoss", With("CenterLoss", [], Centers),
            [LossSamples.ExtremeOf(T.Opt(), ["embeddings", "centers"], ("embeddings", T.Shaped(new float[] { 1e4f, -1e4f, 0, 0, 1e-30f, 1, -30, 30 }, 4, 2)),
                ("labels", T.I(0, 1, 1, 2)), ("centers", T.Shaped(new float[] { -1e4f, 1e4f, 0, 0, -30, 30 }, 3, 2)))]);
        yield return new("SupConLoss", With("SupConLoss", [T.Opt(("temperature", 0.5))], r =>
            T.In(("embeddings", T.Shaped(LossSamples.Normal(r, 28), 7, 4)), ("labels", T.I(0, 0, 1, 1, 2, 2, r.Next(2) == 0 ? 1 : 3)))),
            [LossSamples.ExtremeOf(T.Opt(), ["embeddings"], ("embeddings", T.Shaped(new float[] { 1e4f, -1e4f, 0, 0, 1e-30f, 1, -30, 30 }, 4, 2)), ("labels", T.I(0, 0, 1, 1)))])
        {
            PlainMean = false,   // mean is the AvgNonZero over anchors
        };
        yield return new("ContrastiveLoss", With("ContrastiveLoss", [T.Opt(("pos_margin", 0.3), ("neg_margin", 1.2)), T.Opt(("normalize_embeddings", false), ("neg_margin", 2.5))], r =>
            T.In(("embeddings", T.Shaped(LossSamples.Normal(r, 28), 7, 4)), ("labels", T.I(0, 0, 1, 1, 2, 2, r.Next(3))))),
            [LossSamples.ExtremeOf(T.Opt(), ["embeddings"], ("embeddings", T.Shaped(new float[] { 1e4f, -1e4f, 0, 0, 1e-30f, 1, -30, 30 }, 4, 2)), ("labels", T.I(0, 0, 1, 1)))])
        {
            PlainMean = false,   // mean averages the non-zero positive and negative terms separately
        };
        yield return new("NTXentLoss", With("NTXentLoss", [T.Opt(("temperature", 0.5)), T.Opt(("temperature", 0.2), ("reduction", "sum"))], r =>
            T.In(("embeddings", T.Shaped(LossSamples.Normal(r, 28), 7, 4)), ("labels", T.I(0, 0, 1, 1, 2, 2, r.Next(2) == 0 ? 1 : 3)))),
            [LossSamples.ExtremeOf(T.Opt(), ["embeddings"], ("embeddings", T.Shaped(new float[] { 1e4f, -1e4f, 0, 0, 1e-30f, 1, -30, 30 }, 4, 2)), ("labels", T.I(0, 0, 1, 1)))])
        {
            PlainMean = false,   // mean divides by the number of positive pairs, not of anchors
        };
        yield return new("JensenShannonDivergence", With("JensenShannonDivergence", [T.Opt(("beta", 0.3), ("normalize", true))], r =>
            T.In(("input", T.Shaped(KerasSamples.SimplexRows(r, 12), 3, 4)), ("target", T.Shaped(KerasSamples.SimplexRows(r, 12), 3, 4)))),
            [LossSamples.ExtremeOf(T.Opt(), ["input", "target"], ("input", T.Shaped(new float[] { 1 - 1e-7f, 1e-30f, 0.5f, 0.5f }, 2, 2)), ("target", T.Shaped(new float[] { 1e-30f, 1 - 1e-7f, 1e-30f, 1 }, 2, 2)))]);
        yield return new("ConvexKLDivergence", With("ConvexKLDivergence", [T.Opt(("where", T.Shaped(new double[] { 1, 0, 1, 1, 0, 0, 0, 0, 1, 1, 1, 0 }, 3, 4)))], r =>
            T.In(("log_predictions", T.Shaped(LossSamples.Normal(r, 12), 3, 4)), ("targets", T.Shaped(LossSamples.Uniform(r, 12, 0.1, 2), 3, 4)))),
            [LossSamples.ExtremeOf(T.Opt(), ["log_predictions"], ("log_predictions", T.F(-1e4f, -30, 30, 0)), ("targets", T.F(0, 1e-30f, 2, 0)))]);
    }

    private static LossSampleSet SparseFocal()
    {
        const string name = "SparseCategoricalFocalLoss";
        LossInputs Rows(Random r) => T.In(("input", T.Shaped(LossSamples.Normal(r, 20, 2), 4, 5)), ("target", T.I(r.Next(5), -100, r.Next(5), r.Next(5))));
        LossInputs Spatial(Random r) => T.In(("input", T.Shaped(LossSamples.Normal(r, 24, 2), 2, 3, 4)), ("target", T.Shaped(new long[] { 0, 1, 2, r.Next(3), 2, 1, 0, r.Next(3) }, 2, 4)));
        var samples = With(name, [T.Opt(("gamma", 0.5), ("weight", T.D(0.5, 2, 1, 1.5, 0.25))), T.Opt(("gamma", 0.0))], Rows);
        samples.Add(new($"{name} (N, C, d) sum", T.Opt(("reduction", "sum"), ("gamma", 3.0)), Spatial));
        // mean divides by Σ w_y over the rows that are not ignored (tested against cross_entropy in the golden tests).
        return new(name, samples, [LossSamples.ExtremeOf(T.Opt(("gamma", 0.5)), ["input"], ("input", T.Shaped(LossSamples.LogitValues, 2, 4)), ("target", T.I(0, 3)))])
        {
            PlainMean = false,
        };
    }

    /// <summary>Scores (4, 5) with integer labels, every reduction plus <paramref name="extra"/>.</summary>
    private static LossSampleSet Indexed(string name, string x, string y, string defaultReduction, Dictionary<string, object?>[] extra)
        => new(name, With(name, extra, r => T.In((x, T.Shaped(LossSamples.Normal(r, 20, 2), 4, 5)), (y, T.I(r.Next(5), r.Next(5), r.Next(5), r.Next(5))))),
            [LossSamples.ExtremeOf(T.Opt(), [x], (x, T.Shaped(LossSamples.LogitValues, 2, 4)), (y, T.I(0, 3)))]);

    internal static List<LossSample> With(string name, Dictionary<string, object?>[] extra, Func<Random, LossInputs> make)
    {
        Dictionary<string, object?>[] reductions = [T.Opt(("reduction", "none")), T.Opt(("reduction", "mean")), T.Opt(("reduction", "sum"))];
        return [.. reductions.Concat(extra).Select(o => new LossSample($"{name} {string.Join(" ", o.Select(kv => $"{kv.Key}={kv.Value}"))}", o, make))];
    }
}
