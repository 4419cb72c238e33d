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

    public IEnumerable<ValidationResult> Validate(ValidationContext context)
    {
        if (!string.IsNullOrEmpty(Grpc) && !new UrlAttribute().IsValid(Grpc))
            yield return new ValidationResult("an http:// or https:// address, or empty to turn the gRPC port off", [nameof(Grpc)]);
    }
}
