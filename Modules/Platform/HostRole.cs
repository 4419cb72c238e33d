namespace BirbalAI.Platform;

/// <summary>
/// What this process does, from <c>--role all|web|worker</c>: web maps pages and endpoints; worker runs
/// Hangfire's server, the RabbitMQ consumers and the outbox relay and serves only health and metrics;
/// all does both.
/// </summary>
public sealed record HostRole(string Name)
{
    public static readonly HostRole All = new("all"), Web = new("web"), Worker = new("worker");

    public bool ServesWeb => this != Worker;
    public bool RunsWorkers => this != Web;

    public static HostRole Parse(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        null or "" or "all" => All,
        "web" => Web,
        "worker" => Worker,
        _ => throw new HostRoleException($"role: '{value}' is not a role; use --role all, web or worker."),
    };
}

public sealed class HostRoleException(string message) : Exception(message);
