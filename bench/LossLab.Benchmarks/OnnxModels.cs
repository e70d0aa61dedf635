using LossLab.Training;

namespace LossLab.Benchmarks;

/// <summary>
/// Builds the ONNX Runtime peers of the cross-entropy benchmark in memory, with the library's protobuf writer
/// (<see cref="Proto"/>): one graph of LogSoftmax(axis 1) + NegativeLogLikelihoodLoss(mean) (ORT's fastest forward
/// graph), or the single SoftmaxCrossEntropyLoss operator, with float logits (N, C) and int64 targets (N).
/// </summary>
internal static class OnnxModels
{
    public static byte[] CrossEntropy(int n, int c, bool singleOperator)
    {
        var graph = new Proto();
        if (singleOperator)
        {
            graph.Message(1, Node("SoftmaxCrossEntropyLoss", ["logits", "target"], "loss", ("reduction", "mean")));
        }
        else
        {
            graph.Message(1, Node("LogSoftmax", ["logits"], "logp", ("axis", 1L)));
            graph.Message(1, Node("NegativeLogLikelihoodLoss", ["logp", "target"], "loss", ("reduction", "mean")));
        }
        graph.String(2, "cross_entropy");
        graph.Message(11, Value("logits", 1, [n, c]));
        graph.Message(11, Value("target", 7, [n]));
        graph.Message(12, Value("loss", 1, []));
        var opset = new Proto();
        opset.String(1, "");
        opset.Int64(2, 13);
        var model = new Proto();
        model.Int64(1, 8);          // ir_version
        model.String(2, "LossLab.Benchmarks");
        model.Message(7, graph);
        model.Message(8, opset);
        return model.ToArray();
    }

    private static Proto Node(string op, string[] inputs, string output, params (string Name, object Value)[] attributes)
    {
        var node = new Proto();
        foreach (string i in inputs) node.String(1, i);
        node.String(2, output);
        node.String(4, op);
        foreach (var (name, value) in attributes)
        {
            var a = new Proto();
            a.String(1, name);
            if (value is long l)
            {
                a.Int64(3, l);
                a.Int64(20, 2);     // AttributeType.INT
            }
            else
            {
                a.String(4, (string)value);   // bytes: UTF-8, length-delimited
                a.Int64(20, 3);     // AttributeType.STRING
            }
            node.Message(5, a);
        }
        return node;
    }

    /// <summary>ValueInfoProto with a tensor type: element type (1 = float, 7 = int64) and fixed dims.</summary>
    private static Proto Value(string name, int elementType, long[] dims)
    {
        var shape = new Proto();
        foreach (long d in dims)
        {
            var dim = new Proto();
            dim.Int64(1, d);
            shape.Message(1, dim);
        }
        var tensor = new Proto();
        tensor.Int64(1, elementType);
        tensor.Message(2, shape);
        var type = new Proto();
        type.Message(1, tensor);
        var info = new Proto();
        info.String(1, name);
        info.Message(2, type);
        return info;
    }
}
