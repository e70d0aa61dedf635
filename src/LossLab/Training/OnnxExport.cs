using System.Text;
using LossLab.Nn;
using LossLab.Data;

namespace LossLab.Training;

/// <summary>
/// Writes a trained <see cref="Model"/> as a standard ONNX graph (opset 17, IR version 8): the standardizer
/// (Sub, Div), each Linear as Gemm, the activations, and the head (Softmax, Sigmoid, or none for regression).
/// Input <c>features</c> (batch, D) float; output <c>output</c>: the same numbers as <see cref="Model.Predict"/>
/// (probabilities (batch, C), a one-logit binary model as [1 − σ, σ], σ per label for multilabel, values (batch, 1);
/// a regression model with a variance gives [mean, variance] (batch, 2), as <see cref="Model.PredictVariance"/>; a
/// metric-learning model gives its nearest-centroid scores (batch, C); an ordinal model its rank probabilities (batch, K)).
/// The protobuf encoding is written by hand, so the library needs no ONNX or protobuf package.
/// </summary>
public static class OnnxExport
{
    public const int Opset = 17;
    public const long IrVersion = 8;

    public static void Save(Model model, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(path);
        byte[] bytes = ToBytes(model);
        string temp = path + ".tmp";
        File.WriteAllBytes(temp, bytes);
        File.Move(temp, path, overwrite: true);
    }

    public static byte[] ToBytes(Model model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var graph = new Graph();
        int d = model.FeatureNames.Count;
        graph.Initializer("mean", [d], model.Standardizer.Mean);
        graph.Initializer("std", [d], model.Standardizer.Std);
        graph.Node("Sub", ["features", "mean"], "centered");
        string x = graph.Node("Div", ["centered", "std"], "standardized");
        int index = 0;
        foreach (Module layer in model.Network.Layers)
        {
            switch (layer)
            {
                case Linear l:
                    graph.Initializer($"W{index}", [l.Inputs, l.Outputs], [.. l.Weight.Values]);
                    graph.Initializer($"B{index}", [l.Outputs], [.. l.Bias.Values]);
                    x = graph.Node("Gemm", [x, $"W{index}", $"B{index}"], $"linear{index}");
                    index++;
                    break;
                case SharedThresholds t:
                    // x·w (batch, 1) + b (K − 1) broadcasts to (batch, K − 1), as SharedThresholds.Forward. The biases are
                    // written in decreasing order: every row's logits are then sorted as OrdinalRanks sorts them (z + b_k
                    // orders as b_k), and its rank probabilities are the same numbers.
                    graph.Initializer($"W{index}", [t.Inputs, 1], [.. t.Weight.Values]);
                    graph.Initializer($"B{index}", [t.Thresholds], [.. t.Bias.Values.ToArray().OrderDescending()]);
                    x = graph.Node("Add", [graph.Node("MatMul", [x, $"W{index}"], $"shared{index}"), $"B{index}"], $"thresholds{index}");
                    index++;
                    break;
                case ActivationLayer a:
                    x = Activation(graph, a.Kind, x, $"act{index}");
                    break;
                case Dropout:
                    break;   // inference: identity
                default:
                    throw new NotSupportedException($"ONNX export: layer {layer.Describe()} is not supported");
            }
        }
        int outputs = model.Outputs;
        if (model.OrdinalHead != OrdinalHead.None)
        {
            x = RankProbabilities(graph, model.OrdinalHead, x);
            outputs++;
        }
        else if (model.Embedding is EmbeddingHead head)
        {
            x = NearestCentroid(graph, head, x);
            outputs = head.Classes;
        }
        else if (model.Task == TaskKind.Multilabel || (model.Task == TaskKind.Binary && outputs == 1))
        {
            string p = graph.Node("Sigmoid", [x], "probability");
            if (model.Task == TaskKind.Binary)
            {
                graph.Initializer("one", [], [1.0]);
                string q = graph.Node("Sub", ["one", p], "complement");
                x = graph.Node("Concat", [q, p], "output", ("axis", 1L));
                outputs = 2;
            }
            else
            {
                x = graph.Node("Identity", [p], "output");
            }
        }
        else if (model.Task != TaskKind.Regression)
        {
            x = graph.Node("Softmax", [x], "output", ("axis", 1L));
        }
        else if (model.HasVariance)
        {
            // [mean, exp(log-variance)]: the columns picked by two 2×1 products, as Model.Predict and PredictVariance do.
            graph.Initializer("pick_mean", [2, 1], [1.0, 0.0]);
            graph.Initializer("pick_log_variance", [2, 1], [0.0, 1.0]);
            string mean = graph.Node("MatMul", [x, "pick_mean"], "predicted_mean");
            string variance = graph.Node("Exp", [graph.Node("MatMul", [x, "pick_log_variance"], "log_variance")], "variance");
            x = graph.Node("Concat", [mean, variance], "output", ("axis", 1L));
        }
        else if (model.RegressionHead == RegressionHead.LogRate)
        {
            x = graph.Node("Exp", [x], "output");   // a count model's log-rate → its rate
        }
        else
        {
            x = graph.Node("Identity", [x], "output");
        }
        return graph.Model(d, outputs);
    }

    /// <summary>
    /// An ordinal model's rank probabilities (<see cref="OrdinalRanks.Probabilities"/>) from its K − 1 outputs: s = σ of
    /// the outputs for CORAL (already in decreasing order: the exported biases are sorted), exp of the running sum of
    /// log σ for CORN; then [1, s] − [s, 0] (two Pads) is (batch, K).
    /// </summary>
    private static string RankProbabilities(Graph g, OrdinalHead head, string x)
    {
        string exceeding;
        if (head == OrdinalHead.Cumulative)
        {
            exceeding = g.Node("Sigmoid", [x], "exceeding");
        }
        else
        {
            g.Int64Initializer("threshold_axis", [], [1]);
            string logSigma = g.Node("Neg", [g.Node("Softplus", [g.Node("Neg", [x], "negated_logits")], "softplus_negated")], "log_conditional");
            exceeding = g.Node("Exp", [g.Node("CumSum", [logSigma, "threshold_axis"], "log_exceeding")], "exceeding");
        }
        g.Int64Initializer("pad_front", [4], [0, 1, 0, 0]);
        g.Int64Initializer("pad_back", [4], [0, 0, 0, 1]);
        g.Initializer("one", [], [1.0]);
        g.Initializer("zero", [], [0.0]);
        string above = g.Node("Pad", [exceeding, "pad_front", "one"], "exceeding_from_one");
        string below = g.Node("Pad", [exceeding, "pad_back", "zero"], "exceeding_to_zero");
        return g.Node("Sub", [above, below], "output");
    }

    /// <summary>
    /// A metric-learning model's scores (<see cref="EmbeddingHead.Scores"/>): softmax over classes of −‖x − c‖, with x
    /// normalized first for the cosine metric; a class without a centre gets −10³⁰ (score 0). Embedding (batch, D) →
    /// (batch, 1, D) − centres (C·K, D) → squared sums over D → (batch, C·K); with K centres per class, reshaped to
    /// (batch, C, K) and the smallest of each class's K kept → (batch, C).
    /// </summary>
    private static string NearestCentroid(Graph g, EmbeddingHead head, string x)
    {
        int c = head.Classes, d = head.Dimension;
        if (head.Metric == EmbeddingMetric.Cosine)
        {
            g.Initializer("unit_floor", [], [1e-24]);
            g.Int64Initializer("embedding_axis", [1], [1]);
            string squares = g.Node("Mul", [x, x], "embedding_squares");
            string norm2 = g.Node("ReduceSum", [squares, "embedding_axis"], "embedding_norm2", ("keepdims", 1L));
            string norm = g.Node("Sqrt", [g.Node("Max", [norm2, "unit_floor"], "embedding_norm2_floor")], "embedding_norm");
            x = g.Node("Div", [x, norm], "unit_embedding");
        }
        int k = head.CentresPerClass;
        g.Initializer("centres", [c * k, d], [.. head.Centroids.SelectMany(v => v ?? new double[k * d])]);
        g.Initializer("absent", [c], [.. head.Centroids.Select(v => v is null ? -1e30 : 0.0)]);
        g.Int64Initializer("middle_axis", [1], [1]);
        g.Int64Initializer("last_axis", [1], [2]);
        string spread = g.Node("Sub", [g.Node("Unsqueeze", [x, "middle_axis"], "embedding_row"), "centres"], "to_centres");
        string distance2 = g.Node("ReduceSum", [g.Node("Mul", [spread, spread], "to_centres_squares"), "last_axis"], "centre_distance2", ("keepdims", 0L));
        if (k > 1)
        {
            g.Int64Initializer("per_class_shape", [3], [0, c, k]);   // 0: keep the batch dimension
            string grouped = g.Node("Reshape", [distance2, "per_class_shape"], "centre_distance2_by_class");
            distance2 = g.Node("ReduceMin", [grouped], "class_distance2", ("axes", new long[] { 2 }), ("keepdims", 0L));
        }
        string logits = g.Node("Sub", ["absent", g.Node("Sqrt", [distance2], "centre_distance")], "centre_logits");
        return g.Node("Softmax", [logits], "output", ("axis", 1L));
    }

    private static string Activation(Graph g, Activation kind, string x, string name) => kind switch
    {
        Nn.Activation.Identity => x,
        Nn.Activation.ReLU => g.Node("Relu", [x], name),
        Nn.Activation.LeakyReLU => g.Node("LeakyRelu", [x], name, ("alpha", 0.01f)),
        Nn.Activation.ELU => g.Node("Elu", [x], name, ("alpha", 1.0f)),
        Nn.Activation.Sigmoid => g.Node("Sigmoid", [x], name),
        Nn.Activation.Tanh => g.Node("Tanh", [x], name),
        Nn.Activation.Softplus => g.Node("Softplus", [x], name),
        Nn.Activation.GELU => Gelu(g, x, name),
        _ => throw new NotSupportedException(kind.ToString()),
    };

    /// <summary>½x(1 + tanh(√(2/π)(x + 0.044715x³))), the tanh form the trainer uses (opset 17 has no Gelu).</summary>
    private static string Gelu(Graph g, string x, string name)
    {
        g.Initializer(name + "_k", [], [0.044715]);
        g.Initializer(name + "_c", [], [Math.Sqrt(2 / Math.PI)]);
        g.Initializer(name + "_one", [], [1.0]);
        g.Initializer(name + "_half", [], [0.5]);
        string x2 = g.Node("Mul", [x, x], name + "_x2");
        string x3 = g.Node("Mul", [x2, x], name + "_x3");
        string a = g.Node("Mul", [x3, name + "_k"], name + "_a");
        string b = g.Node("Add", [x, a], name + "_b");
        string c = g.Node("Mul", [b, name + "_c"], name + "_d");
        string t = g.Node("Tanh", [c], name + "_t");
        string f = g.Node("Add", [t, name + "_one"], name + "_f");
        string h = g.Node("Mul", [x, f], name + "_g");
        return g.Node("Mul", [h, name + "_half"], name);
    }

    /// <summary>The nodes and initializers of the graph being built, serialized as ONNX protobuf.</summary>
    private sealed class Graph
    {
        private readonly List<byte[]> _nodes = [];
        private readonly List<byte[]> _initializers = [];

        public void Initializer(string name, long[] dims, double[] values)
        {
            var t = new Proto();
            foreach (long dim in dims) t.Int64(1, dim);                    // dims
            t.Int64(2, 1);                                                 // data_type = FLOAT
            t.String(8, name);                                             // name
            t.Bytes(9, [.. values.SelectMany(v => BitConverter.GetBytes((float)v))]);   // raw_data, little-endian
            _initializers.Add(t.ToArray());
        }

        public void Int64Initializer(string name, long[] dims, long[] values)
        {
            var t = new Proto();
            foreach (long dim in dims) t.Int64(1, dim);
            t.Int64(2, 7);                                                 // data_type = INT64
            t.String(8, name);
            t.Bytes(9, [.. values.SelectMany(v => BitConverter.GetBytes(v))]);
            _initializers.Add(t.ToArray());
        }

        public string Node(string op, string[] inputs, string output, params (string Name, object Value)[] attributes)
        {
            var n = new Proto();
            foreach (string i in inputs) n.String(1, i);
            n.String(2, output);
            n.String(3, output + "_node");
            n.String(4, op);
            foreach (var (name, value) in attributes)
            {
                var a = new Proto();
                a.String(1, name);
                switch (value)
                {
                    case float f: a.Float(2, f); a.Int64(20, 1); break;    // FLOAT
                    case long l: a.Int64(3, l); a.Int64(20, 2); break;     // INT
                    case long[] ls: foreach (long v in ls) a.Int64(8, v); a.Int64(20, 7); break;   // INTS
                    default: throw new ArgumentException(value.GetType().Name);
                }
                n.Message(5, a);
            }
            _nodes.Add(n.ToArray());
            return output;
        }

        public byte[] Model(int inputs, int outputs)
        {
            var graph = new Proto();
            foreach (byte[] node in _nodes) graph.Bytes(1, node);
            graph.String(2, "losslab_mlp");
            foreach (byte[] init in _initializers) graph.Bytes(5, init);
            graph.Message(11, ValueInfo("features", inputs));
            graph.Message(12, ValueInfo("output", outputs));
            var model = new Proto();
            model.Int64(1, IrVersion);
            model.String(2, "LossLab");
            model.String(3, typeof(OnnxExport).Assembly.GetName().Version?.ToString() ?? "0");
            model.Message(7, graph);
            var opset = new Proto();
            opset.String(1, "");
            opset.Int64(2, Opset);
            model.Message(8, opset);
            return model.ToArray();
        }

        /// <summary>A float tensor (batch, width) with a symbolic batch dimension.</summary>
        private static Proto ValueInfo(string name, int width)
        {
            var shape = new Proto();
            var batch = new Proto();
            batch.String(2, "batch");
            shape.Message(1, batch);
            var w = new Proto();
            w.Int64(1, width);
            shape.Message(1, w);
            var tensor = new Proto();
            tensor.Int64(1, 1);   // elem_type FLOAT
            tensor.Message(2, shape);
            var type = new Proto();
            type.Message(1, tensor);
            var info = new Proto();
            info.String(1, name);
            info.Message(2, type);
            return info;
        }
    }
}
