using System.ComponentModel.DataAnnotations;

namespace BirbalAI.Platform;

/// <summary>Where each role listens, so a web and a worker process run side by side on one machine.</summary>
public sealed class ListenOptions : IValidatableObject
{
    public const string Section = "Listen";

    /// <summary>Pages, REST API and health of a web or all process (HTTP/1.1; HTTP/2 too with TLS).</summary>
    [Required, Url] public string Web { get; set; } = "http://127.0.0.1:5080";

    /// <summary>
    /// gRPC of a web or all process, HTTP/2 only: on cleartext, Kestrel serves HTTP/2 only on an endpoint that
    /// speaks nothing else. Empty turns the gRPC port off.
    /// </summary>
    public string? Grpc { get; set; } = "http://127.0.0.1:5081";

    /// <summary>Health and metrics of a worker process.</summary>
    [Required, Url] public string Worker { get; set; } = "http://127.0.0.1:5082";

    /// <summary>
    /// The server certificate of every https:// address: a PKCS#12 (.pfx) file, or a PEM certificate with
    /// <see cref="CertificateKeyPath"/>. With TLS the web address serves HTTP/1.1 and HTTP/2 (gRPC on the same port).
    /// </summary>
    public string? CertificatePath { get; set; }

    /// <summary>The PEM private key of a PEM <see cref="CertificatePath"/>.</summary>
    public string? CertificateKeyPath { get; set; }

    /// <summary>The password of the .pfx file or of an encrypted PEM key (a secret: put it in SecretsDirectory).</summary>
    public string? CertificatePassword { get; set; }

    /// <summary>Strict-Transport-Security max-age sent on https:// requests outside Development; 0 sends none.</summary>
    [Range(0, 3650)] public int HstsMaxAgeDays { get; set; } = 365;

    public bool UsesTls => Addresses.Any(a => a.StartsWith("https://", StringComparison.OrdinalIgnoreCase));

    IEnumerable<string> Addresses => new[] { Web, Grpc, Worker }.OfType<string>().Where(a => a.Length > 0);

    public IEnumerable<ValidationResult> Validate(ValidationContext context)
    {
        if (!string.IsNullOrEmpty(Grpc) && !new UrlAttribute().IsValid(Grpc))
            yield return new ValidationResult("an http:// or https:// address, or empty to turn the gRPC port off", [nameof(Grpc)]);
        if (UsesTls && string.IsNullOrEmpty(CertificatePath))
            yield return new ValidationResult("an https:// address needs a certificate: the path of a .pfx or PEM file", [nameof(CertificatePath)]);
        else if (!string.IsNullOrEmpty(CertificatePath) && !File.Exists(CertificatePath))
            yield return new ValidationResult($"no file at {CertificatePath}", [nameof(CertificatePath)]);
        if (!string.IsNullOrEmpty(CertificateKeyPath) && !File.Exists(CertificateKeyPath))
            yield return new ValidationResult($"no file at {CertificateKeyPath}", [nameof(CertificateKeyPath)]);
    }
}
