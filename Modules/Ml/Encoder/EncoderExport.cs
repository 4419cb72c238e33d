using BirbalAI.Ml.Onnx;
using Google.Protobuf;
using Onnx;
using static BirbalAI.Ml.Onnx.OnnxExport;

namespace BirbalAI.Ml.Encoder;

/// <summary>
/// The encoder model kind as one ONNX graph: all-MiniLM-L6-v2's own graph with, appended, the mean over the
/// attention mask, L2 normalisation, the mean over each text's windows (<c>pooling</c> [texts, windows], row t
/// holding 1/n at text t's n windows), L2 normalisation again, and the heads (MatMul, Add, Sigmoid).
/// Inputs <c>input_ids</c>, <c>attention_mask</c>, <c>token_type_ids</c> (int64 [windows, tokens]) and
/// <c>pooling</c>; outputs <c>scores</c> [texts, categories] and <c>embedding</c> [texts, 384]. The categories are
/// in the metadata, as <see cref="OnnxExport"/> writes them; the vocabulary is stored beside the graph.
/// </summary>
static class EncoderExport
{
    public const string PoolingInput = "pooling", EmbeddingOutput = "embedding";
    public const int FormatVersion = 1;

    public static byte[] ToBytes(EncoderHeads heads, byte[] encoderOnnx, EncoderSettings settings)
    {
        var model = ModelProto.Parser.ParseFrom(encoderOnnx);
        var graph = model.Graph;
        var dim = heads.Dim;
        var classes = heads.Categories.Count;
        graph.Output.Clear();

        graph.Initializer.Add(Longs("birbal_mask_shape", 0, 1, -1));
        graph.Initializer.Add(Longs("birbal_window_shape", 0, -1));
        graph.Initializer.Add(Floats("birbal_heads_weights", Transpose(heads.Weights, classes, dim), dim, classes));
        graph.Initializer.Add(Floats("birbal_heads_bias", heads.Bias, classes));

        var cast = Node("Cast", [SentenceEncoder.AttentionMask], "birbal_mask");                        // [W, L] float
        cast.Attribute.Add(new AttributeProto { Name = "to", Type = AttributeProto.Types.AttributeType.Int, I = (long)TensorProto.Types.DataType.Float });
        graph.Node.Add(cast);
        graph.Node.Add(Node("Reshape", ["birbal_mask", "birbal_mask_shape"], "birbal_mask_3d"));        // [W, 1, L]
        graph.Node.Add(Node("MatMul", ["birbal_mask_3d", SentenceEncoder.HiddenState], "birbal_sum_3d")); // [W, 1, D]: the masked sum
        graph.Node.Add(Node("Reshape", ["birbal_sum_3d", "birbal_window_shape"], "birbal_window_sum"));  // [W, D]
        graph.Node.Add(Normalize("birbal_window_sum", "birbal_window_embedding"));                      // the mean's direction
        graph.Node.Add(Node("MatMul", [PoolingInput, "birbal_window_embedding"], "birbal_text_sum"));    // [T, D]
        graph.Node.Add(Normalize("birbal_text_sum", EmbeddingOutput));
        graph.Node.Add(Node("MatMul", [EmbeddingOutput, "birbal_heads_weights"], "birbal_logits_raw"));  // [T, C]
        graph.Node.Add(Node("Add", ["birbal_logits_raw", "birbal_heads_bias"], "birbal_logits"));
        graph.Node.Add(Node("Sigmoid", ["birbal_logits"], ScoresOutput));

        graph.Input.Add(Value(PoolingInput, TensorProto.Types.DataType.Float, "texts", "windows"));
        graph.Output.Add(Value(ScoresOutput, TensorProto.Types.DataType.Float, "texts", classes));
        graph.Output.Add(Value(EmbeddingOutput, TensorProto.Types.DataType.Float, "texts", dim));
        Prune(graph);

        model.MetadataProps.Add(new StringStringEntryProto { Key = "categories", Value = string.Join("|", heads.Categories) });
        model.MetadataProps.Add(new StringStringEntryProto { Key = "kind", Value = "encoder" });
        model.MetadataProps.Add(new StringStringEntryProto { Key = "encoder", Value = EncoderFiles.Name });
        model.MetadataProps.Add(new StringStringEntryProto { Key = "max_windows", Value = settings.MaxWindows.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        model.MetadataProps.Add(new StringStringEntryProto { Key = "window_tokens", Value = settings.WindowTokens.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        model.MetadataProps.Add(new StringStringEntryProto { Key = "format_version", Value = FormatVersion.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        return model.ToByteArray();
    }

    /// <summary>Writes model.onnx and the vocabulary it was tokenised with into <paramref name="directory"/>.</summary>
    public static void Write(string directory, byte[] onnx, string vocabularyPath)
    {
        Directory.CreateDirectory(directory);
        File.WriteAllBytes(Path.Combine(directory, EncoderFiles.ModelFile), onnx);
        File.Copy(vocabularyPath, Path.Combine(directory, EncoderFiles.VocabularyFile), overwrite: true);
    }

    static NodeProto Normalize(string input, string output)
    {
        var node = Node("LpNormalization", [input], output);
        node.Attribute.Add(new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = 1 });
        node.Attribute.Add(new AttributeProto { Name = "p", Type = AttributeProto.Types.AttributeType.Int, I = 2 });
        return node;
    }

    /// <summary>Drops the nodes and initializers no output needs (the encoder's pooler output is no longer one).</summary>
    static void Prune(GraphProto graph)
    {
        var needed = new HashSet<string>(graph.Output.Select(o => o.Name));
        var kept = new List<NodeProto>();
        foreach (var node in graph.Node.Reverse())   // nodes are in topological order
        {
            if (!node.Output.Any(needed.Contains)) continue;
            kept.Add(node);
            foreach (var input in node.Input) needed.Add(input);
        }
        kept.Reverse();
        graph.Node.Clear();
        graph.Node.AddRange(kept);
        var initializers = graph.Initializer.Where(i => needed.Contains(i.Name)).ToList();
        graph.Initializer.Clear();
        graph.Initializer.AddRange(initializers);
    }

    static TensorProto Longs(string name, params long[] values) =>
        new() { Name = name, DataType = (int)TensorProto.Types.DataType.Int64, Dims = { values.Length }, Int64Data = { values } };

    static float[] Transpose(float[] values, int rows, int columns)
    {
        var result = new float[values.Length];
        for (var r = 0; r < rows; r++)
            for (var c = 0; c < columns; c++) result[c * rows + r] = values[r * columns + c];
        return result;
    }
}
