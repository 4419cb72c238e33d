using System.Security.Cryptography;
using System.Text;
using System.Xml.Linq;
using BirbalAI.Platform.Configuration;
using BirbalAI.Platform.Messaging;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.StackExchangeRedis;
using Microsoft.AspNetCore.DataProtection.XmlEncryption;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace BirbalAI.Platform.Web;

/// <summary>
/// The data-protection key ring (cookies, antiforgery, invite links) lives in Redis, so every replica
/// reads the same keys and cookies survive restarts; each key is encrypted with AES-256-GCM under a key
/// derived from Secrets:EncryptionKey, so Redis alone reveals nothing.
/// </summary>
public static class DataProtectionKeys
{
    public static IServiceCollection AddRedisDataProtection(this IServiceCollection services)
    {
        services.AddDataProtection().SetApplicationName("birbal-ai");
        services.AddOptions<KeyManagementOptions>()
            .Configure<IConnectionMultiplexer, IOptions<RedisOptions>, IOptions<SecretsOptions>>((o, redis, redisOptions, secrets) =>
            {
                o.XmlRepository = new RedisXmlRepository(() => redis.GetDatabase(), redisOptions.Value.KeyPrefix + "data-protection-keys");
                // The secret is read when a key is first encrypted, not now: start-up validation reports a bad one.
                o.XmlEncryptor = new SecretKeyXmlEncryptor(secrets);
            });
        return services;
    }

    internal static byte[] DeriveKey(string secret) =>
        HKDF.DeriveKey(HashAlgorithmName.SHA256, Encoding.UTF8.GetBytes(secret), 32, info: Encoding.UTF8.GetBytes("birbal-ai/data-protection"));

    sealed class SecretKeyXmlEncryptor(IOptions<SecretsOptions> secrets) : IXmlEncryptor
    {
        public EncryptedXmlInfo Encrypt(XElement plaintextElement)
        {
            var key = DeriveKey(secrets.Value.EncryptionKey);
            var plaintext = Encoding.UTF8.GetBytes(plaintextElement.ToString(SaveOptions.DisableFormatting));
            var sealedBytes = new byte[12 + 16 + plaintext.Length];
            var nonce = sealedBytes.AsSpan(0, 12);
            RandomNumberGenerator.Fill(nonce);
            using var aes = new AesGcm(key, 16);
            aes.Encrypt(nonce, plaintext, sealedBytes.AsSpan(28), sealedBytes.AsSpan(12, 16));
            var element = new XElement("encryptedKey",
                new XComment(" AES-256-GCM under a key derived from Secrets:EncryptionKey "),
                new XElement("value", Convert.ToBase64String(sealedBytes)));
            return new EncryptedXmlInfo(element, typeof(SecretKeyXmlDecryptor));
        }
    }
}

/// <summary>Created by data protection from the key ring's XML (hence public, with this constructor).</summary>
public sealed class SecretKeyXmlDecryptor(IServiceProvider services) : IXmlDecryptor
{
    /// <summary>Under Secrets:EncryptionKey, or (after a rotation) one of Secrets:PreviousEncryptionKeys: the key ring keeps working.</summary>
    public XElement Decrypt(XElement encryptedElement)
    {
        var secrets = services.GetRequiredService<IOptions<SecretsOptions>>().Value;
        var sealedBytes = Convert.FromBase64String(encryptedElement.Element("value")!.Value);
        var plaintext = new byte[sealedBytes.Length - 28];
        foreach (var secret in secrets.PreviousEncryptionKeys.Where(k => !string.IsNullOrEmpty(k)).Prepend(secrets.EncryptionKey))
        {
            using var aes = new AesGcm(DataProtectionKeys.DeriveKey(secret), 16);
            try
            {
                aes.Decrypt(sealedBytes.AsSpan(0, 12), sealedBytes.AsSpan(28), sealedBytes.AsSpan(12, 16), plaintext);
                return XElement.Parse(Encoding.UTF8.GetString(plaintext));
            }
            catch (AuthenticationTagMismatchException)
            {
                // sealed under another of the keys
            }
        }
        throw new CryptographicException("A data-protection key is sealed under neither Secrets:EncryptionKey nor any of Secrets:PreviousEncryptionKeys.");
    }
}
