using System.Runtime.InteropServices;
using BirbalAI.Ml.Training;
using Google.Protobuf;
using Onnx;

namespace BirbalAI.Ml.Onnx;

/// <summary>
/// Writes a <see cref="LinearModel"/> as an ONNX graph built with OnnxSharp's generated classes:
/// inputs <c>ids</c> [batch, length] (int64 feature ids, padded with 0) and <c>weights</c>
/// [batch, 1, length] (1/n for each real id, 0 for padding); output <c>scores</c> [batch, categories].
/// Gather then a batched MatMul with the weights is the averaged embedding (one pass, no [batch, length, dim]
/// product in between); MatMul → Add → Sigmoid gives the per-category scores.
/// </summary>
static class OnnxExport
{
    public const string IdsInput = "ids", WeightsInput = "weights", ScoresOutput = "scores";

    /// <summary>Changes with the graph's inputs or layout, so models cached from an older exporter are made again.</summary>
    public const int FormatVersion = 2;

    public static byte[] ToBytes(LinearModel model)
    {
        var classes = model.Categories.Count;
        var graph = new GraphProto { Name = "birbal-linear" };
        graph.Initializer.Add(Floats("embeddings", model.Embeddings, model.Featurizer.Buckets, model.Dim));
        graph.Initializer.Add(Floats("weights_out", Transpose(model.Weights, classes, model.Dim), model.Dim, classes));
        graph.Initializer.Add(Floats("bias", model.Bias, classes));
        graph.Initializer.Add(new TensorProto { Name = "scores_shape", DataType = (int)TensorProto.Types.DataType.Int64, Dims = { 2 }, Int64Data = { -1, classes } });

        graph.Node.Add(Node("Gather", [ "embeddings", IdsInput ], "gathered"));                  // [B, L, D]
        graph.Node.Add(Node("MatMul", [ WeightsInput, "gathered" ], "hidden"));                 // [B, 1, D]: the weighted mean
        graph.Node.Add(Node("MatMul", [ "hidden", "weights_out" ], "logits_raw"));              // [B, 1, C]
        graph.Node.Add(Node("Add", [ "logits_raw", "bias" ], "logits"));
        graph.Node.Add(Node("Sigmoid", [ "logits" ], "scores_3d"));
        graph.Node.Add(Node("Reshape", [ "scores_3d", "scores_shape" ], ScoresOutput));        // [B, C]

        graph.Input.Add(Value(IdsInput, TensorProto.Types.DataType.Int64, "batch", "length"));
        graph.Input.Add(Value(WeightsInput, TensorProto.Types.DataType.Float, "batch", 1, "length"));
        graph.Output.Add(Value(ScoresOutput, TensorProto.Types.DataType.Float, "batch", classes));

        var onnx = new ModelProto
        {
            IrVersion = 8,
            ProducerName = "birbal-ai",
            ProducerVersion = "1",
            Graph = graph,
            OpsetImport = { new OperatorSetIdProto { Domain = "", Version = 13 } },
        };
        onnx.MetadataProps.Add(new StringStringEntryProto { Key = "categories", Value = string.Join("|", model.Categories) });
        return onnx.ToByteArray();
    }

    /// <summary>[rows × columns] → [columns × rows].</summary>
    static float[] Transpose(float[] values, int rows, int columns)
    {
        var result = new float[values.Length];
        for (var r = 0; r < rows; r++)
            for (var c = 0; c < columns; c++) result[c * rows + r] = values[r * columns + c];
        return result;
    }

    internal static NodeProto Node(string op, string[] inputs, string output)
    {
        var node = new NodeProto { OpType = op, Name = output };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        return node;
    }

    internal static TensorProto Floats(string name, float[] values, params long[] dims) => new()
    {
        Name = name,
        DataType = (int)TensorProto.Types.DataType.Float,
        Dims = { dims },
        RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(values.AsSpan())),   // little-endian, as ONNX wants
    };

    internal static ValueInfoProto Value(string name, TensorProto.Types.DataType type, params object[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var dim in dims)
            shape.Dim.Add(dim is string symbol
                ? new TensorShapeProto.Types.Dimension { DimParam = symbol }
                : new TensorShapeProto.Types.Dimension { DimValue = Convert.ToInt64(dim) });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } },
        };
    }
}
