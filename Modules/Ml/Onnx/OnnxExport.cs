using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using BirbalAI.Ml.Training;
using Google.Protobuf;
using Onnx;

namespace BirbalAI.Ml.Onnx;

/// <summary>
/// Writes a <see cref="LinearModel"/> as an ONNX graph built with OnnxSharp's generated classes, ragged (no padding):
/// inputs <c>ids</c> [features] (every text's int64 feature ids, one text after another), <c>segments</c>
/// [features, 1] (the text each id belongs to) and <c>lengths</c> [texts, 1] (each text's number of ids, 1 for an
/// empty text); output <c>scores</c> [texts, categories]. The model is linear up to the sigmoid (the mean of the
/// embeddings times the output weights), so the graph holds what each feature adds to each category's logit, the
/// embeddings times the weights ([buckets, categories], format 4): Gather, then ScatterND with <c>reduction="add"</c>
/// into a [texts, categories] zero tensor, divided by the lengths, plus the bias, through a sigmoid. A feature costs
/// one row of 13 floats instead of an embedding row of 32 and the matrix product is gone. Graphs of format 3 (the
/// embeddings gathered, then the product) and format 2 (padded ids [batch, length], weights [batch, 1, length]) are
/// still served.
/// </summary>
static class OnnxExport
{
    public const string IdsInput = "ids", WeightsInput = "weights", SegmentsInput = "segments", LengthsInput = "lengths", ScoresOutput = "scores";

    /// <summary>Changes with the graph's inputs or layout, so models cached from an older exporter are made again.</summary>
    public const int FormatVersion = 4;

    /// <summary>The format-4 graph's table: what each feature adds to each category's logit, [buckets, categories].</summary>
    public const string ContributionsInitializer = "contributions";

    public static byte[] ToBytes(LinearModel model) => ToBytes(model, combined: true);

    /// <summary>Format 4 (<paramref name="combined"/>: the contributions table) or format 3 (the embeddings, then the output weights; tests keep it served).</summary>
    internal static byte[] ToBytes(LinearModel model, bool combined)
    {
        var classes = model.Categories.Count;
        var graph = new GraphProto { Name = "birbal-linear" };
        var width = combined ? classes : model.Dim;
        if (combined) graph.Initializer.Add(Floats(ContributionsInitializer, Contributions(model), model.Featurizer.Buckets, classes));
        else
        {
            graph.Initializer.Add(Floats("embeddings", model.Embeddings, model.Featurizer.Buckets, model.Dim));
            graph.Initializer.Add(Floats("weights_out", Transpose(model.Weights, classes, model.Dim), model.Dim, classes));
        }
        graph.Initializer.Add(Floats("bias", model.Bias, classes));
        graph.Initializer.Add(new TensorProto { Name = "width", DataType = (int)TensorProto.Types.DataType.Int64, Dims = { 1 }, Int64Data = { width } });

        graph.Node.Add(Node("Gather", [ combined ? ContributionsInitializer : "embeddings", IdsInput ], "gathered"));   // [N, W]
        graph.Node.Add(FirstDimension(LengthsInput, "texts"));                                   // [1]: B
        graph.Node.Add(Concat([ "texts", "width" ], "sums_shape"));                             // [2]: B, W
        graph.Node.Add(ConstantOfShape("sums_shape", "zeros"));
        graph.Node.Add(ScatterAdd("zeros", SegmentsInput, "gathered", "sums"));                  // [B, W]: each text's sum
        graph.Node.Add(Node("Div", [ "sums", LengthsInput ], combined ? "logits_raw" : "hidden")); // [B, W]: its mean
        if (!combined) graph.Node.Add(Node("MatMul", [ "hidden", "weights_out" ], "logits_raw")); // [B, C]
        graph.Node.Add(Node("Add", [ "logits_raw", "bias" ], "logits"));
        graph.Node.Add(Node("Sigmoid", [ "logits" ], ScoresOutput));

        graph.Input.Add(Value(IdsInput, TensorProto.Types.DataType.Int64, "features"));
        graph.Input.Add(Value(SegmentsInput, TensorProto.Types.DataType.Int64, "features", 1));
        graph.Input.Add(Value(LengthsInput, TensorProto.Types.DataType.Float, "texts", 1));
        graph.Output.Add(Value(ScoresOutput, TensorProto.Types.DataType.Float, "texts", classes));

        var onnx = new ModelProto
        {
            IrVersion = 8,
            ProducerName = "birbal-ai",
            ProducerVersion = "1",
            Graph = graph,
            OpsetImport = { new OperatorSetIdProto { Domain = "", Version = 16 } },   // ScatterND's reduction
        };
        onnx.MetadataProps.Add(new StringStringEntryProto { Key = "categories", Value = string.Join("|", model.Categories) });
        return onnx.ToByteArray();
    }

    /// <summary>
    /// The format-2 graph (ids [batch, length] padded with 0, weights [batch, 1, length]), which versions registered
    /// before format 3 still have: the tests that keep those versions served make one with it.
    /// </summary>
    internal static byte[] ToPaddedBytes(LinearModel model)
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

    static NodeProto FirstDimension(string input, string output)
    {
        var node = Node("Shape", [input], output);
        node.Attribute.Add(new AttributeProto { Name = "start", Type = AttributeProto.Types.AttributeType.Int, I = 0 });
        node.Attribute.Add(new AttributeProto { Name = "end", Type = AttributeProto.Types.AttributeType.Int, I = 1 });
        return node;
    }

    static NodeProto Concat(string[] inputs, string output)
    {
        var node = Node("Concat", inputs, output);
        node.Attribute.Add(new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = 0 });
        return node;
    }

    static NodeProto ConstantOfShape(string shape, string output)
    {
        var node = Node("ConstantOfShape", [shape], output);
        node.Attribute.Add(new AttributeProto
        {
            Name = "value", Type = AttributeProto.Types.AttributeType.Tensor,
            T = new TensorProto { DataType = (int)TensorProto.Types.DataType.Float, Dims = { 1 }, FloatData = { 0f } },
        });
        return node;
    }

    static NodeProto ScatterAdd(string data, string indices, string updates, string output)
    {
        var node = Node("ScatterND", [data, indices, updates], output);
        node.Attribute.Add(new AttributeProto { Name = "reduction", Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8("add") });
        return node;
    }

    /// <summary>Each bucket's embedding · each category's weights, [buckets × categories].</summary>
    internal static float[] Contributions(LinearModel model)
    {
        var classes = model.Categories.Count;
        var table = new float[(long)model.Featurizer.Buckets * classes];
        for (var b = 0; b < model.Featurizer.Buckets; b++)
        {
            var row = model.Embeddings.AsSpan(b * model.Dim, model.Dim);
            for (var c = 0; c < classes; c++) table[(long)b * classes + c] = TensorPrimitives.Dot(row, model.WeightRow(c));
        }
        return table;
    }

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
