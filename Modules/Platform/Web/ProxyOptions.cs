using System.ComponentModel.DataAnnotations;
using System.Net;

namespace BirbalAI.Platform.Web;

/// <summary>
/// The reverse proxies (a TLS-terminating ingress, a load balancer) whose X-Forwarded-For and X-Forwarded-Proto headers
/// the app believes. Behind one, the request's scheme and client address are the ones the proxy saw: secure cookies and
/// same-origin checks see https, sign-in audits and per-address rate limits see the real client. From anyone else
/// the headers are ignored, so a client cannot claim another address.
/// </summary>
public sealed class ProxyOptions : IValidatableObject
{
    public const string Section = "Proxy";

    /// <summary>
    /// Comma-separated addresses ("10.0.0.7") and networks ("10.0.0.0/8", "fd00::/8") of the proxies in front of the
    /// app; empty (the default) believes no forwarded header.
    /// </summary>
    public string? TrustedProxies { get; set; }

    /// <summary>How many proxies in a chain are unwrapped from X-Forwarded-For (the right-most entries first).</summary>
    [Range(1, 10)] public int ForwardLimit { get; set; } = 1;

    public IReadOnlyList<string> Entries =>
        (TrustedProxies ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>Each entry as a network (an address is a network of one).</summary>
    public IReadOnlyList<IPNetwork> Networks => [.. Entries.Select(e => Parse(e)!.Value)];

    static IPNetwork? Parse(string entry) =>
        IPNetwork.TryParse(entry, out var network) ? network
        : IPAddress.TryParse(entry, out var address) ? new IPNetwork(address, address.GetAddressBytes().Length * 8)
        : null;

    public IEnumerable<ValidationResult> Validate(ValidationContext context)
    {
        foreach (var entry in Entries.Where(e => Parse(e) is null))
            yield return new ValidationResult($"'{entry}' is neither an IP address nor a network such as 10.0.0.0/8", [nameof(TrustedProxies)]);
    }
}
