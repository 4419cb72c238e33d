namespace BirbalAI.Testing;

/// <summary>
/// The throwaway server set `scripts/services.sh start test` runs (ARCHITECTURE.md, "Local instances").
/// Environment variables override them, e.g. for a CI with its own servers.
/// </summary>
public static class TestServers
{
    public static string Postgres(string database = "birbal") =>
        $"{Environment.GetEnvironmentVariable("BIRBAL_TEST_POSTGRES") ?? "Host=127.0.0.1;Port=55442;Username=postgres"};Database={database};Include Error Detail=true";

    public static string Redis => Environment.GetEnvironmentVariable("BIRBAL_TEST_REDIS") ?? "127.0.0.1:56389";

    public static string RabbitMq => Environment.GetEnvironmentVariable("BIRBAL_TEST_RABBITMQ") ?? "amqp://guest:guest@127.0.0.1:55682/";

    /// <summary>A short unique name for one test class's database, queues and keys.</summary>
    public static string UniqueName() => "t" + Guid.NewGuid().ToString("N")[..12];
}
