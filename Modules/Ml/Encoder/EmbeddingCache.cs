using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;

namespace BirbalAI.Ml.Encoder;

/// <summary>
/// Sentence embeddings on disk, one file per (texts, encoder, window settings): a second training run on the same
/// corpus reads them instead of running the encoder again. The key hashes every text in order, the encoder file's
/// hash and the window settings; a file is written whole (temporary name, then renamed) or not at all.
/// </summary>
sealed class EmbeddingCache(string directory)
{
    const int Magic = 0x424D4531;   // "BME1"

    public string Directory => directory;

    public static string Key(IReadOnlyList<string> texts, string encoderHash, EncoderSettings settings)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes($"{encoderHash}|{settings.MaxWindows}|{settings.WindowTokens}|{texts.Count}|"));
        Span<byte> length = stackalloc byte[4];
        foreach (var text in texts)
        {
            var bytes = Encoding.UTF8.GetBytes(text);
            BitConverter.TryWriteBytes(length, bytes.Length);
            hash.AppendData(length);
            hash.AppendData(bytes);
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    public string PathOf(string key) => Path.Combine(directory, key + ".embeddings");

    /// <summary>The cached embeddings of <paramref name="texts"/>, or <paramref name="embed"/>'s, then kept.</summary>
    public EncodedTexts GetOrAdd(IReadOnlyList<string> texts, string encoderHash, EncoderSettings settings, Func<IReadOnlyList<string>, EncodedTexts> embed)
    {
        var path = PathOf(Key(texts, encoderHash, settings));
        if (TryRead(path, texts.Count) is { } cached) return cached;
        var encoded = embed(texts);
        Write(path, encoded);
        return encoded;
    }

    static EncodedTexts? TryRead(string path, int count)
    {
        if (!File.Exists(path)) return null;
        try
        {
            using var reader = new BinaryReader(File.OpenRead(path));
            if (reader.ReadInt32() != Magic || reader.ReadInt32() != count) return null;
            var dim = reader.ReadInt32();
            var embeddings = new float[count][];
            var coverage = new TextCoverage[count];
            for (var i = 0; i < count; i++)
            {
                embeddings[i] = new float[dim];
                reader.BaseStream.ReadExactly(MemoryMarshal.AsBytes(embeddings[i].AsSpan()));
                coverage[i] = new TextCoverage(reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt32());
            }
            return new EncodedTexts(embeddings, coverage);
        }
        catch (EndOfStreamException)
        {
            return null;   // a truncated file (a disk filled up): embed again
        }
    }

    static void Write(string path, EncodedTexts encoded)
    {
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var partial = path + ".partial-" + Guid.NewGuid().ToString("N")[..8];
        using (var writer = new BinaryWriter(File.Create(partial)))
        {
            writer.Write(Magic);
            writer.Write(encoded.Embeddings.Length);
            writer.Write(encoded.Embeddings.Length == 0 ? SentenceEncoder.Dimensions : encoded.Embeddings[0].Length);
            for (var i = 0; i < encoded.Embeddings.Length; i++)
            {
                writer.Write(MemoryMarshal.AsBytes(encoded.Embeddings[i].AsSpan()));
                writer.Write(encoded.Coverage[i].Tokens);
                writer.Write(encoded.Coverage[i].CoveredTokens);
                writer.Write(encoded.Coverage[i].CoveredChars);
            }
        }
        File.Move(partial, path, overwrite: true);
    }
}
