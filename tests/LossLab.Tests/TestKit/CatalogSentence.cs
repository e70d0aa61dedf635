using LossLab.Losses.Core;
using LossLab.Numerics;

namespace LossLab.Tests.TestKit;

/// <summary>Contract samples for sentence-transformers' embedding losses (the Embedding folder's).</summary>
internal static class CatalogSentence
{
    public static IEnumerable<LossSampleSet> Sets()
    {
        // sentence-transformers: in-batch negatives (with 2 hard negatives per anchor in the registry's sample, one as (N, D),
        // none), its four directions and two partitions; CoSENT and AnglE over scored pairs, one value per batch.
        LossInputs Mnrl(Random r) => LossRegistry.Default.Get("MultipleNegativesRankingLoss").Sample!(r, Shape.Scalar);
        LossInputs MnrlPairs(Random r) => new(Mnrl(r).Tensors.Where(kv => kv.Key != "negatives"));
        LossInputs MnrlOneNegative(Random r) { LossInputs i = MnrlPairs(r); return i.Add("negatives", T.Shaped(LossSamples.Normal(r, 20), 5, 4)); }
        yield return new("MultipleNegativesRankingLoss", [.. CatalogThree.With("MultipleNegativesRankingLoss", [T.Opt(("doc_to_query", true), ("partition_mode", "per_direction")),
            T.Opt(("query_to_query", true), ("doc_to_query", true), ("doc_to_doc", true)),
            T.Opt(("query_to_query", true), ("doc_to_doc", true), ("partition_mode", "per_direction"), ("scale", 5.0)),
            T.Opt(("similarity_fct", "dot_score"), ("scale", 1.0), ("doc_to_query", true)),
            T.Opt(("matryoshka_dims", T.D(4, 2)), ("matryoshka_weights", T.D(1, 0.5)), ("scale", 5.0))], Mnrl),
            new("MultipleNegativesRankingLoss pairs", T.Opt(("doc_to_doc", true)), MnrlPairs),
            new("MultipleNegativesRankingLoss one negative as (N, D)", T.Opt(("reduction", "sum")), MnrlOneNegative)],
            [LossSamples.ExtremeOf(T.Opt(("similarity_fct", "dot_score"), ("doc_to_query", true)), ("anchors", T.Shaped(new float[] { 1e2f, -1e2f, 30, 0 }, 2, 2)),
                ("positives", T.Shaped(new float[] { 1e2f, 1e2f, -30, 1e-30f }, 2, 2))),
             LossSamples.ExtremeOf(T.Opt(("scale", 1e4)), ("anchors", T.Shaped(new float[] { 1, 0, 0, 1, 0, 0 }, 3, 2)),
                ("positives", T.Shaped(new float[] { -1, 0, 0, 1, 1e-30f, 0 }, 3, 2)))]);
        LossInputs Scored(Random r) => LossRegistry.Default.Get("CoSENTLoss").Sample!(r, Shape.Scalar);
        LossInputs ScoredTies(Random r) { LossInputs i = Scored(r); return i.Add("labels", T.D(1, 0, 1, 2, 0, 2)); }
        LossInputs ScoredOdd(Random r) => T.In(("embeddings1", T.Shaped(LossSamples.Normal(r, 15), 5, 3)), ("embeddings2", T.Shaped(LossSamples.Normal(r, 15), 5, 3)), ("labels", T.D(0.1, 0.9, 0.5, 0.3, 0.7)));
        foreach (string pairLoss in new[] { "CoSENTLoss", "AnglELoss" })
        {
            yield return new(pairLoss, [new($"{pairLoss}", T.Opt(), Scored), new($"{pairLoss} tied labels scale=5", T.Opt(("scale", 5.0)), ScoredTies),
                new($"{pairLoss} matryoshka_dims=[4, 2]", T.Opt(("scale", 5.0), ("matryoshka_dims", T.D(4, 2))), Scored),
                new($"{pairLoss} odd D", T.Opt(("scale", 1.0)), ScoredOdd)],
                [LossSamples.ExtremeOf(T.Opt(("scale", 1e3)), ["embeddings1", "embeddings2"], ("embeddings1", T.Shaped(new float[] { 1e4f, 1, -1e4f, 3, 1e-20f, 2 }, 3, 2)),
                    ("embeddings2", T.Shaped(new float[] { 1e4f, -1, 1e4f, 30, 1, 1e-20f }, 3, 2)), ("labels", T.F(1, 0, 0.5f)))]);
        }

        LossInputs CosinePairs(Random r) => LossRegistry.Default.Get("CosineSimilarityLoss").Sample!(r, Shape.Scalar);
        yield return new("CosineSimilarityLoss", CatalogThree.With("CosineSimilarityLoss", [], CosinePairs),
            [LossSamples.ExtremeOf(T.Opt(), ("embeddings1", T.Shaped(new float[] { 1e4f, 1, -1e4f, 3, 1e-20f, 2 }, 3, 2)),
                ("embeddings2", T.Shaped(new float[] { 1e4f, -1, 1e4f, 30, 1, 1e-20f }, 3, 2)), ("labels", T.F(1, -1, 0.5f)))]);
        LossInputs Margins(Random r) => LossRegistry.Default.Get("MarginMSELoss").Sample!(r, Shape.Scalar);
        LossInputs OneMargin(Random r) => T.In(("query", T.Shaped(LossSamples.Normal(r, 12), 4, 3)), ("passage", T.Shaped(LossSamples.Normal(r, 12), 4, 3)),
            ("negatives", T.Shaped(LossSamples.Normal(r, 12), 4, 3)), ("labels", T.Shaped(LossSamples.Normal(r, 4), 4)));
        yield return new("MarginMSELoss", [.. CatalogThree.With("MarginMSELoss", [T.Opt(("similarity_fct", "pairwise_cos_sim"))], Margins),
            new("MarginMSELoss one second passage as (N, D)", T.Opt(("reduction", "sum")), OneMargin)],
            [LossSamples.ExtremeOf(T.Opt(), ("query", T.Shaped(new float[] { 1e3f, -1e3f, 30, 0 }, 2, 2)), ("passage", T.Shaped(new float[] { 1e3f, 1e3f, -30, 1e-30f }, 2, 2)),
                ("negatives", T.Shaped(new float[] { -1e3f, 1e3f, 0, 30 }, 2, 2)), ("labels", T.F(1e4f, -1e4f)))]);

        LossInputs Gist(Random r) => LossRegistry.Default.Get("GistEmbedLoss").Sample!(r, Shape.Scalar);
        LossInputs GistPairs(Random r) => new(Gist(r).Tensors.Where(kv => !kv.Key.EndsWith("negatives", StringComparison.Ordinal)));
        LossInputs GistSelfGuided(Random r)
        {
            LossInputs i = GistPairs(r);
            return i.Add("guide_anchors", i["anchors"]).Add("guide_positives", i["positives"]);
        }
        yield return new("GistEmbedLoss", [.. CatalogThree.With("GistEmbedLoss", [T.Opt(("margin_strategy", "relative"), ("margin", 0.1), ("temperature", 0.05)),
            T.Opt(("contrast_anchors", false), ("contrast_positives", false), ("temperature", 1.0))], Gist),
            new("GistEmbedLoss pairs", T.Opt(("margin", -0.5), ("temperature", 0.2)), GistPairs),
            new("GistEmbedLoss self-guided", T.Opt(("margin", 0.05), ("temperature", 0.1)), GistSelfGuided)],
            [LossSamples.ExtremeOf(T.Opt(), ["anchors", "positives"], ("anchors", T.Shaped(new float[] { 1e4f, 1, -1e4f, 3, 1e-20f, 2 }, 3, 2)),
                ("positives", T.Shaped(new float[] { 1e4f, -1, 1e4f, 30, 1, 1e-20f }, 3, 2)), ("guide_anchors", T.Shaped(new float[] { 1, 0, 0, 1, 1, 1 }, 3, 2)),
                ("guide_positives", T.Shaped(new float[] { 1, 0, 1, 0, 0, 1 }, 3, 2)))]);

        LossInputs SimilarPairs(Random r) => LossRegistry.Default.Get("PairContrastiveLoss").Sample!(r, Shape.Scalar);
        LossInputs MixedPairs(Random r) { LossInputs i = SimilarPairs(r); return i.Add("labels", T.D(1, 0, 0, 1, 0, 1)); }
        ExtremeSample PairExtremes(Dictionary<string, object?> o) => LossSamples.ExtremeOf(o, ["embeddings1", "embeddings2"],
            ("embeddings1", T.Shaped(new float[] { 1e4f, 1, -1e4f, 3, 1e-20f, 2, 5, 5 }, 4, 2)),
            ("embeddings2", T.Shaped(new float[] { 1e4f, -1, 1e4f, 30, 1, 1e-20f, -5, 5 }, 4, 2)), ("labels", T.F(1, 0, 1, 0)));
        yield return new("PairContrastiveLoss", CatalogThree.With("PairContrastiveLoss", [T.Opt(("distance_metric", "euclidean"), ("margin", 3.0)),
            T.Opt(("distance_metric", "manhattan"), ("margin", 4.0)), T.Opt(("margin", 1.5))], SimilarPairs), [PairExtremes(T.Opt())]);
        yield return new("OnlineContrastiveLoss", [new("OnlineContrastiveLoss", T.Opt(("margin", 1.5)), MixedPairs),
            new("OnlineContrastiveLoss euclidean", T.Opt(("distance_metric", "euclidean"), ("margin", 3.0)), MixedPairs),
            new("OnlineContrastiveLoss manhattan random labels", T.Opt(("distance_metric", "manhattan"), ("margin", 5.0)), SimilarPairs)],
            [PairExtremes(T.Opt()), PairExtremes(T.Opt(("distance_metric", "euclidean")))]);

        // sentence-transformers' batch triplet losses over labelled embeddings (every class at least twice in the sample).
        LossInputs Batch(Random r) => LossRegistry.Default.Get("BatchHardTripletLoss").Sample!(r, Shape.Scalar);
        foreach (string batchLoss in new[] { "BatchAllTripletLoss", "BatchHardTripletLoss", "BatchSemiHardTripletLoss" })
        {
            var samples = new List<LossSample> { new($"{batchLoss}", T.Opt(("margin", 1.0)), Batch),
                new($"{batchLoss} squared_euclidean", T.Opt(("distance_metric", "squared_euclidean"), ("margin", 2.0)), Batch),
                new($"{batchLoss} cosine_distance", T.Opt(("distance_metric", "cosine_distance"), ("margin", 0.3)), Batch),
                new($"{batchLoss} margin=5", T.Opt(), Batch) };
            if (batchLoss == "BatchHardTripletLoss") samples.Add(new("BatchHardTripletLoss soft_margin", T.Opt(("soft_margin", true)), Batch));
            samples.Add(new($"{batchLoss} matryoshka_dims=[4, 2, 1]", T.Opt(("margin", 1.0), ("matryoshka_dims", T.D(4, 2, 1)), ("matryoshka_weights", T.D(1, 0.5, 0.25))), Batch));
            yield return new(batchLoss, samples, LabeledExtremes());
        }

        // Global orthogonal regularization: EmbeddingGemma's spread-out form (the default), HardNet's paired form, v5.3's defaults.
        LossInputs Columns(Random r) => LossRegistry.Default.Get("GlobalOrthogonalRegularizationLoss").Sample!(r, Shape.Scalar);
        LossInputs OneColumn(Random r) => T.In(("embeddings", T.Shaped(LossSamples.Normal(r, 24), 6, 4)));
        LossInputs ThreeColumns(Random r) => T.In(("embeddings", T.Shaped(LossSamples.Normal(r, 36), 3, 4, 3)));
        yield return new("GlobalOrthogonalRegularizationLoss", [new("GlobalOrthogonalRegularizationLoss", T.Opt(), Columns),
            new("GlobalOrthogonalRegularizationLoss original", T.Opt(("mode", "original")), ThreeColumns),
            new("GlobalOrthogonalRegularizationLoss v5.3 defaults", T.Opt(("mean_weight", 1.0), ("aggregation", "mean"), ("second_moment_threshold", "dimension")), ThreeColumns),
            new("GlobalOrthogonalRegularizationLoss dot_score weights", T.Opt(("similarity_fct", "dot_score"), ("mean_weight", 2.0), ("second_moment_weight", 0.5)), Columns),
            new("GlobalOrthogonalRegularizationLoss original dot_score raw M2 columns [-1, 0]", T.Opt(("mode", "original"), ("similarity_fct", "dot_score"),
                ("second_moment_threshold", "none"), ("embedding_indices", T.D(-1, 0))), ThreeColumns),
            new("GlobalOrthogonalRegularizationLoss one column (N, D)", T.Opt(("mean_weight", 1.0)), OneColumn),
            new("GlobalOrthogonalRegularizationLoss matryoshka_dims=[4, 2]", T.Opt(("matryoshka_dims", T.D(4, 2)), ("matryoshka_weights", T.D(1, 0.5)), ("mean_weight", 1.0)), Columns)],
            [LossSamples.ExtremeOf(T.Opt(("mean_weight", 1.0)), ("embeddings", T.Shaped(new float[] { 1e4f, -1e4f, 0, 0, 1e-30f, 1, -30, 30, 1e4f, 1, 2, 1e-20f }, 2, 3, 2))),
             LossSamples.ExtremeOf(T.Opt(("mode", "original")), ("embeddings", T.Shaped(new float[] { 1e4f, -1e4f, 0, 0, 1e-30f, 1, -30, 30, 1e4f, 1, 2, 1e-20f }, 2, 3, 2)))]);

        // The sparse encoders' FLOPS regularizer: sparse rows (exact zeros) so that the l0 threshold keeps some rows and drops others.
        LossInputs Sparse(Random r)
        {
            double[] w = LossSamples.Normal(r, 30);
            for (int i = 0; i < w.Length; i++) w[i] = Math.Max(0, w[i]);
            return T.In(("embeddings", T.Shaped(w, 5, 6)));
        }
        // For the threshold, kept rows have at least 4 non-zeros and dropped ones at most 1, so that moving one entry by the
        // finite-difference step never crosses 2.5 (the mask is a step there, as in sentence-transformers).
        LossInputs Thresholded(Random r)
        {
            double[] w = [.. LossSamples.Normal(r, 30).Select(x => 0.1 + Math.Abs(x))];
            w[13] = 0;                                               // row 2: 5 non-zeros, kept
            for (int k = 6; k < 12; k++) if (k != 8) w[k] = 0;       // row 1: 1 non-zero, dropped
            for (int k = 18; k < 24; k++) w[k] = 0;                  // row 3: none, dropped
            return T.In(("embeddings", T.Shaped(w, 5, 6)));
        }
        yield return new("FlopsLoss", [new("FlopsLoss", T.Opt(), r => LossRegistry.Default.Get("FlopsLoss").Sample!(r, Shape.Scalar)),
            new("FlopsLoss sparse rows", T.Opt(), Sparse), new("FlopsLoss threshold=2.5", T.Opt(("threshold", 2.5)), Thresholded)],
            [LossSamples.ExtremeOf(T.Opt(), ("embeddings", T.Shaped(new float[] { 1e4f, 0, 3, 1e-30f, 0, 1e4f, 30, 0 }, 2, 4))),
             LossSamples.ExtremeOf(T.Opt(("threshold", 2.0)), ("embeddings", T.Shaped(new float[] { 1e4f, 0, 3, 1e-30f, 0, 1e4f, 30, 0 }, 2, 4)))]);

        // The cross-encoders' listwise losses over padded document lists (the registry's sample masks the last query's tail).
        LossInputs Lists(Random r) => LossRegistry.Default.Get("ListNetLoss").Sample!(r, Shape.Scalar);
        LossInputs FullLists(Random r) => new(Lists(r).Tensors.Where(kv => kv.Key != "mask"));
        LossInputs Holes(Random r) { LossInputs i = Lists(r); return i.Add("mask", T.Shaped(new double[] { 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 0, 0 }, 3, 5)); }
        ExtremeSample ListExtremes(Dictionary<string, object?> o) => LossSamples.ExtremeOf(o, ["logits"], ("logits", T.Shaped(new float[] { 1e4f, -1e4f, 30, 0, -30, 1e-30f }, 2, 3)),
            ("labels", T.Shaped(new float[] { 3, 0, 1, 1e3f, -1e3f, 2 }, 2, 3)));
        yield return new("ListNetLoss", [.. CatalogThree.With("ListNetLoss", [], Lists), new("ListNetLoss full lists", T.Opt(), FullLists),
            new("ListNetLoss mask with holes", T.Opt(("reduction", "sum")), Holes)], [ListExtremes(T.Opt())]);
        yield return new("ListMleLoss", [.. CatalogThree.With("ListMleLoss", [T.Opt(("lambda_weight", "position")), T.Opt(("respect_input_order", false)),
            T.Opt(("lambda_weight", "position"), ("respect_input_order", false), ("reduction", "sum"))], Lists),
            new("ListMleLoss full lists", T.Opt(("respect_input_order", false)), FullLists), new("ListMleLoss mask with holes", T.Opt(("lambda_weight", "position")), Holes)],
            [ListExtremes(T.Opt()), ListExtremes(T.Opt(("lambda_weight", "position"), ("respect_input_order", false)))]);

        // LambdaLoss's five weightings and RankNet; k = 2 keeps only the top two documents' pairs.
        yield return new("LambdaLoss", [new("LambdaLoss", T.Opt(), Lists), new("LambdaLoss ndcg_loss2 natural", T.Opt(("weighting_scheme", "ndcg_loss2"), ("reduction_log", "natural")), Lists),
            new("LambdaLoss ndcg_loss1 sigma=2", T.Opt(("weighting_scheme", "ndcg_loss1"), ("sigma", 2.0)), Lists),
            new("LambdaLoss lambda_rank k=2", T.Opt(("weighting_scheme", "lambda_rank"), ("k", 2L)), Holes),
            new("LambdaLoss none mu ignored full lists", T.Opt(("weighting_scheme", "none"), ("mu", 3.0)), FullLists)], [ListExtremes(T.Opt()), ListExtremes(T.Opt(("weighting_scheme", "ndcg_loss1")))]);
        yield return new("RankNetLoss", [new("RankNetLoss", T.Opt(), Lists), new("RankNetLoss k=3 sigma=0.5 natural", T.Opt(("k", 3L), ("sigma", 0.5), ("reduction_log", "natural")), Holes)],
            [ListExtremes(T.Opt())]);

        // open_clip's image–text losses: unit rows (the registry's sample), raw rows, one pair, a scalar of shape (1), no bias.
        foreach (string imageText in new[] { "ClipLoss", "SigLipLoss" })
        {
            string name = imageText;
            LossInputs Unit(Random r) => LossRegistry.Default.Get(name).Sample!(r, Shape.Scalar);
            bool bias = name == "SigLipLoss";
            LossInputs Biased(LossInputs i, TensorData b) => bias ? i.Add("logit_bias", b) : i;
            LossInputs Raw(Random r) => Biased(T.In(("image_features", T.Shaped(LossSamples.Normal(r, 12), 4, 3)), ("text_features", T.Shaped(LossSamples.Normal(r, 12), 4, 3)),
                ("logit_scale", T.D(0.5 + 3 * r.NextDouble()))), T.D(-2 * r.NextDouble()));
            LossInputs OnePair(Random r) => Biased(T.In(("image_features", T.Shaped(LossSamples.Normal(r, 3), 1, 3)), ("text_features", T.Shaped(LossSamples.Normal(r, 3), 1, 3)),
                ("logit_scale", T.D(2.0))), T.D(-1.0));
            LossInputs NoBias(Random r) => new(Unit(r).Tensors.Where(kv => kv.Key != "logit_bias"));
            List<LossSample> samples = [.. CatalogThree.With(name, [], Unit), new($"{name} raw rows", T.Opt(), Raw), new($"{name} one pair", T.Opt(("reduction", "sum")), OnePair)];
            if (bias) samples.Add(new($"{name} without logit_bias", T.Opt(), NoBias));
            TensorData big = T.Shaped(new float[] { 1e4f, -1e4f, 30, 1e-30f, 0, 1 }, 3, 2), other = T.Shaped(new float[] { 1e4f, 1e4f, -30, 3, 1e-30f, 0 }, 3, 2);
            yield return new(name, samples,
                [Extreme(T.Opt(), ("image_features", big), ("text_features", other), ("logit_scale", T.F(100)), ("logit_bias", T.F(-1e4f))),
                 Extreme(T.Opt(("reduction", "sum")), ("image_features", other), ("text_features", big), ("logit_scale", T.F(1e-3f)), ("logit_bias", T.F(50)))]);
            ExtremeSample Extreme(Dictionary<string, object?> o, params (string Name, TensorData Value)[] i) => LossSamples.ExtremeOf(o, [.. i.Where(x => bias || x.Name != "logit_bias")]);
        }

        // SBERT's softmax objective: the classifier over [u, v, |u − v|] (the default) or other parts, as inputs.
        LossInputs Nli(Random r) => LossRegistry.Default.Get("SoftmaxLoss").Sample!(r, Shape.Scalar);
        LossInputs NliProducts(Random r)
        {
            LossInputs i = Nli(r);
            return i.Add("classifier.weight", T.Shaped(LossSamples.Normal(r, 36, 0.5), 3, 12));   // [u, v, |u − v|, u ∗ v]: 4·3
        }
        LossInputs NliNoBias(Random r) => new(Nli(r).Tensors.Where(kv => kv.Key != "classifier.bias"));
        yield return new("SoftmaxLoss", [.. CatalogThree.With("SoftmaxLoss", [], Nli),
            new("SoftmaxLoss with the product", T.Opt(("concatenation_sent_multiplication", true)), NliProducts),
            new("SoftmaxLoss difference only, no bias", T.Opt(("concatenation_sent_rep", false), ("reduction", "sum")), r =>
            {
                LossInputs i = NliNoBias(r);
                return i.Add("classifier.weight", T.Shaped(LossSamples.Normal(r, 9, 0.5), 3, 3));
            })],
            [LossSamples.ExtremeOf(T.Opt(), ["embeddings1", "embeddings2", "classifier.weight"], ("embeddings1", T.Shaped(new float[] { 1e3f, -1e3f, 30, 0 }, 2, 2)),
                ("embeddings2", T.Shaped(new float[] { -1e3f, 1e3f, 0, 1e-30f }, 2, 2)), ("labels", T.I(0, 1)),
                ("classifier.weight", T.Shaped(new float[] { 30, -30, 1, 0, 5, 5, -1, 1, 0, 2, 30, -3 }, 2, 6)))]);
    }

    private static ExtremeSample[] LabeledExtremes() =>
        [LossSamples.ExtremeOf(T.Opt(), ["embeddings"], ("embeddings", T.Shaped(new float[] { 1e4f, -1e4f, 0, 0, 1e-30f, 1, -30, 30 }, 4, 2)), ("labels", T.I(0, 0, 1, 1)))];
}
