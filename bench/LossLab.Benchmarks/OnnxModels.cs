using System.Text;

namespace LossLab.Benchmarks;

/// <summary>
/// Builds the ONNX Runtime peers of the cross-entropy benchmark in memory: a minimal protobuf writer for one graph of
/// LogSoftmax(axis 1) + NegativeLogLikelihoodLoss(mean) (ORT's fastest forward graph), or the single
/// SoftmaxCrossEntropyLoss operator, with float logits (N, C) and int64 targets (N).
/// </summary>
internal static class OnnxModels
{
    public static byte[] CrossEntropy(int n, int c, bool singleOperator)
    {
        var graph = new Writer();
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
        var opset = new Writer();
        opset.String(1, "");
        opset.Int64(2, 13);
        var model = new Writer();
        model.Int64(1, 8);          // ir_version
        model.String(2, "LossLab.Benchmarks");
        model.Message(7, graph);
        model.Message(8, opset);
        return model.ToArray();
    }

    private static Writer Node(string op, string[] inputs, string output, params (string Name, object Value)[] attributes)
    {
        var node = new Writer();
        foreach (string i in inputs) node.String(1, i);
        node.String(2, output);
        node.String(4, op);
        foreach (var (name, value) in attributes)
        {
            var a = new Writer();
            a.String(1, name);
            if (value is long l)
            {
                a.Int64(3, l);
                a.Int64(20, 2);     // AttributeType.INT
            }
            else
            {
                a.Bytes(4, Encoding.UTF8.GetBytes((string)value));
                a.Int64(20, 3);     // AttributeType.STRING
            }
            node.Message(5, a);
        }
        return node;
    }

    /// <summary>ValueInfoProto with a tensor type: element type (1 = float, 7 = int64) and fixed dims.</summary>
    private static Writer Value(string name, int elementType, long[] dims)
    {
        var shape = new Writer();
        foreach (long d in dims)
        {
            var dim = new Writer();
            dim.Int64(1, d);
            shape.Message(1, dim);
        }
        var tensor = new Writer();
        tensor.Int64(1, elementType);
        tensor.Message(2, shape);
        var type = new Writer();
        type.Message(1, tensor);
        var info = new Writer();
        info.String(1, name);
        info.Message(2, type);
        return info;
    }

    /// <summary>Protobuf wire format: varint (type 0) and length-delimited (type 2) fields.</summary>
    private sealed class Writer
    {
        private readonly MemoryStream _s = new();

        public byte[] ToArray() => _s.ToArray();

        public void Int64(int field, long value)
        {
            Varint((ulong)(field << 3));
            Varint((ulong)value);
        }

        public void String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

        public void Message(int field, Writer message) => Bytes(field, message.ToArray());

        public void Bytes(int field, byte[] value)
        {
            Varint((ulong)(field << 3 | 2));
            Varint((ulong)value.Length);
            _s.Write(value);
        }

        private void Varint(ulong v)
        {
            while (v >= 0x80)
            {
                _s.WriteByte((byte)(v | 0x80));
                v >>= 7;
            }
            _s.WriteByte((byte)v);
        }
    }
}
