using System.ComponentModel.DataAnnotations;

namespace BirbalAI.Platform.Configuration;

/// <summary>
/// Keys the platform signs and encrypts with. `make run` generates development ones (prefixed "dev-")
/// into .local/run/secrets; start-up refuses those anywhere but in Development.
/// </summary>
public sealed class SecretsOptions : IValidatableObject
{
    public const string Section = "Secrets";
    public const string DevelopmentPrefix = "dev-";

    /// <summary>Signs the JWTs the API issues (HMAC-SHA256): at least 32 characters.</summary>
    [Required, MinLength(32)] public string JwtSigningKey { get; set; } = "";

    /// <summary>Encrypts the data-protection key ring and stored document bodies: at least 32 characters.</summary>
    [Required, MinLength(32)] public string EncryptionKey { get; set; } = "";

    /// <summary>
    /// Keys used before <see cref="EncryptionKey"/>: content encrypted under them is still read, and `documents rotate-key`
    /// re-encrypts it under the current key. Remove one only after a rotation finished.
    /// </summary>
    public string[] PreviousEncryptionKeys { get; set; } = [];

    /// <summary>Set by the host from its environment; not a setting.</summary>
    internal bool IsDevelopment { get; set; }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (IsDevelopment) yield break;
        if (JwtSigningKey.StartsWith(DevelopmentPrefix, StringComparison.Ordinal))
            yield return new ValidationResult("is a development key; supply your own outside Development", [nameof(JwtSigningKey)]);
        if (EncryptionKey.StartsWith(DevelopmentPrefix, StringComparison.Ordinal))
            yield return new ValidationResult("is a development key; supply your own outside Development", [nameof(EncryptionKey)]);
    }
}
