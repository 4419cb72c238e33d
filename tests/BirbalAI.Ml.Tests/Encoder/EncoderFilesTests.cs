using BirbalAI.Ml.Encoder;

namespace BirbalAI.Ml.Tests.Encoder;

public sealed class EncoderFilesTests
{
    [Fact]
    public void The_build_output_holds_the_encoder_files_and_one_onnx_runtime_the_gpu_one()
    {
        Assert.True(new FileInfo(EncoderFiles.ModelPath).Length > 80_000_000, "model.onnx extracted whole");
        Assert.StartsWith("[PAD]", File.ReadLines(EncoderFiles.VocabularyPath).First());
        Assert.Equal(30_522, File.ReadLines(EncoderFiles.VocabularyPath).Count());

        var runtimes = Directory.GetFiles(AppContext.BaseDirectory, "libonnxruntime.so", SearchOption.AllDirectories);
        var runtime = Assert.Single(runtimes);
        Assert.True(File.Exists(Path.Combine(Path.GetDirectoryName(runtime)!, "libonnxruntime_providers_cuda.so")), "the Gpu.Linux package's library");
        var deps = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "BirbalAI.Ml.Tests.deps.json"));
        Assert.Contains("\"Microsoft.ML.OnnxRuntime.Gpu.Linux/1.31.0\"", deps);
        Assert.DoesNotContain("\"Microsoft.ML.OnnxRuntime/", deps);
        Assert.DoesNotContain("SentenceTransformers", deps);
        Assert.Empty(Directory.GetFiles(AppContext.BaseDirectory, "SentenceTransformers*.dll"));
    }

    [Fact]
    public void The_encoder_hash_is_the_files_sha256_and_stable()
    {
        var path = Path.Combine(Path.GetTempPath(), "birbal-hash-" + Guid.NewGuid().ToString("N"));
        File.WriteAllText(path, "abc");
        try
        {
            Assert.Equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", EncoderFiles.Hash(path));
            Assert.Equal(EncoderFiles.Hash(path), EncoderFiles.Hash(path));
        }
        finally { File.Delete(path); }
    }
}
