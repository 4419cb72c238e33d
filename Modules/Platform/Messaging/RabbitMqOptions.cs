using System.ComponentModel.DataAnnotations;

namespace BirbalAI.Platform.Messaging;

public sealed class RabbitMqOptions : IValidatableObject
{
    public const string Section = "RabbitMq";

    /// <summary>amqp://user:password@host:port/vhost (amqps:// for TLS).</summary>
    [Required] public string Uri { get; set; } = "";

    /// <summary>Prefix of every exchange and queue name, so several deployments (or test classes) share a broker.</summary>
    [Required, RegularExpression(@"^[a-z0-9][a-z0-9._-]{0,40}$")] public string Prefix { get; set; } = "birbal.";

    /// <summary>Deliveries of one message before it is parked in the dead-letter queue.</summary>
    [Range(1, 100)] public int MaxDeliveries { get; set; } = 5;

    /// <summary>
    /// Back-off before each redelivery, comma-separated milliseconds; the last one repeats for later tries.
    /// (A string, not an array: configuration merges arrays index by index across sources.)
    /// </summary>
    [Required] public string RetryDelaysMs { get; set; } = "1000,5000,30000,120000";

    public int[] RetryDelays => RetryDelaysMs.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
        .Select(d => int.TryParse(d, out var ms) ? ms : -1).ToArray();

    /// <summary>Unacknowledged messages one consumer holds at a time.</summary>
    [Range(1, 1000)] public ushort Prefetch { get; set; } = 16;

    /// <summary>Outbox rows the relay claims per round, and how long it sleeps when idle (it is woken by NOTIFY).</summary>
    [Range(1, 10_000)] public int RelayBatchSize { get; set; } = 100;
    [Range(10, 60_000)] public int RelayIdleMs { get; set; } = 2_000;

    public string Exchange => Prefix + "events";
    public string UnroutedExchange => Prefix + "unrouted";
    public string UnroutedQueue => Prefix + "unrouted";
    public string DeadLetterQueue => Prefix + "dead-letters";
    public string ModuleQueue(string module) => Prefix + module;
    public string RetryQueue(string module, int delayMs) => $"{Prefix}{module}.retry.{delayMs}ms";
    public int RetryDelay(int attempt) => RetryDelays[Math.Clamp(attempt - 1, 0, RetryDelays.Length - 1)];

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!System.Uri.TryCreate(Uri, UriKind.Absolute, out var uri) || uri.Scheme is not ("amqp" or "amqps"))
            yield return new ValidationResult("must be an amqp:// or amqps:// URI", [nameof(Uri)]);
        if (RetryDelays is [] || RetryDelays.Any(d => d is < 1 or > 86_400_000))
            yield return new ValidationResult("must be comma-separated delays, each between 1 and 86400000 ms", [nameof(RetryDelaysMs)]);
    }
}
