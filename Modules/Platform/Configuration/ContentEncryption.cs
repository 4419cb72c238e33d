using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace BirbalAI.Platform.Configuration;

/// <summary>
/// AES-256-GCM for content at rest (document originals and extracted bodies). The key is derived with HKDF-SHA256 from
/// Secrets:EncryptionKey ("birbal content v1"), so the data-protection key ring and content never share a key; its id is the
/// first 8 bytes of SHA-256 of the derived key, hex. A sealed value is "kid:nonce|ciphertext|tag" (the id in clear, the
/// rest base64) and names the key it needs, so Secrets:PreviousEncryptionKeys can still open it after a rotation.
/// </summary>
public sealed class ContentEncryption
{
    const int NonceSize = 12, TagSize = 16;
    static readonly byte[] Info = Encoding.UTF8.GetBytes("birbal content v1");

    readonly (string Id, byte[] Key) current;
    readonly Dictionary<string, byte[]> keys = new(StringComparer.Ordinal);

    public ContentEncryption(IOptions<SecretsOptions> options)
    {
        current = Derive(options.Value.EncryptionKey);
        keys[current.Id] = current.Key;
        foreach (var previous in options.Value.PreviousEncryptionKeys.Where(k => !string.IsNullOrEmpty(k)))
        {
            var (id, key) = Derive(previous);
            keys.TryAdd(id, key);
        }
    }

    /// <summary>The id of the key new content is sealed with.</summary>
    public string CurrentKeyId => current.Id;

    public string Seal(ReadOnlySpan<byte> plain)
    {
        var output = new byte[NonceSize + plain.Length + TagSize];
        var nonce = output.AsSpan(0, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(current.Key, TagSize);
        aes.Encrypt(nonce, plain, output.AsSpan(NonceSize, plain.Length), output.AsSpan(NonceSize + plain.Length), Encoding.ASCII.GetBytes(current.Id));
        return $"{current.Id}:{Convert.ToBase64String(output)}";
    }

    public string SealText(string text) => Seal(Encoding.UTF8.GetBytes(text));

    /// <summary>The key id a sealed value names.</summary>
    public static string KeyIdOf(string sealedValue) => sealedValue.Split(':', 2)[0];

    /// <summary>Opens a sealed value; a missing key or tampered bytes throw <see cref="CryptographicException"/> with the reason.</summary>
    public byte[] Open(string sealedValue)
    {
        var colon = sealedValue.IndexOf(':');
        if (colon <= 0) throw new CryptographicException("not a sealed value (no key id)");
        var id = sealedValue[..colon];
        if (!keys.TryGetValue(id, out var key))
            throw new CryptographicException($"sealed with key {id}, which is neither Secrets:EncryptionKey nor one of Secrets:PreviousEncryptionKeys");
        var bytes = Convert.FromBase64String(sealedValue[(colon + 1)..]);
        if (bytes.Length < NonceSize + TagSize) throw new CryptographicException("sealed value too short");
        var plain = new byte[bytes.Length - NonceSize - TagSize];
        using var aes = new AesGcm(key, TagSize);
        aes.Decrypt(bytes.AsSpan(0, NonceSize), bytes.AsSpan(NonceSize, plain.Length), bytes.AsSpan(NonceSize + plain.Length), plain, Encoding.ASCII.GetBytes(id));
        return plain;
    }

    public string OpenText(string sealedValue) => Encoding.UTF8.GetString(Open(sealedValue));

    static (string Id, byte[] Key) Derive(string secret)
    {
        var key = HKDF.DeriveKey(HashAlgorithmName.SHA256, Encoding.UTF8.GetBytes(secret), 32, salt: [], info: Info);
        return (Convert.ToHexStringLower(SHA256.HashData(key).AsSpan(0, 8)), key);
    }
}
