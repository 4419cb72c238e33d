using System.ComponentModel.DataAnnotations;

namespace BirbalAI.Platform.Messaging;

public sealed class RedisOptions
{
    public const string Section = "Redis";

    /// <summary>StackExchange.Redis configuration string ("host:port,password=…,ssl=true").</summary>
    [Required] public string ConnectionString { get; set; } = "";

    /// <summary>Prefix of every key and pub/sub channel, so deployments (or test classes) can share a server.</summary>
    [Required, RegularExpression(@"^[A-Za-z0-9:._-]{1,40}$")] public string KeyPrefix { get; set; } = "birbal:";
}
