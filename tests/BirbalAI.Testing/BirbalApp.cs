using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace BirbalAI.Testing;

/// <summary>
/// The whole app on the real servers, for one test class: its own database (cloned from the migrated
/// template), its own RabbitMQ exchange and queue prefix and its own Redis key prefix. A second instance
/// made with <see cref="ReplicaOf"/> shares them, like a second replica of one deployment.
/// </summary>
public class BirbalApp<TProgram> : WebApplicationFactory<TProgram>, IAsyncLifetime where TProgram : class
{
    readonly BirbalApp<TProgram>? primary;
    readonly Dictionary<string, string?> settings = new(StringComparer.OrdinalIgnoreCase);
    readonly List<Action<IServiceCollection>> serviceChanges = [];
    TestDatabase? database;

    public BirbalApp() : this(null) { }

    /// <summary>With <paramref name="primary"/>, a second instance of the same deployment: same database, broker prefix and Redis prefix.</summary>
    protected BirbalApp(BirbalApp<TProgram>? primary)
    {
        this.primary = primary;
        Prefix = primary?.Prefix ?? TestServers.UniqueName();
    }

    /// <summary>Names this instance's database, queues and keys.</summary>
    public string Prefix { get; }
    public string EnvironmentName { get; set; } = "Testing";
    public TestDatabase Database => primary?.Database ?? database ?? throw new InvalidOperationException("InitializeAsync has not run");

    /// <summary>Overrides one configuration setting ("Section:Key"); call before the app starts.</summary>
    public BirbalApp<TProgram> With(string key, string? value)
    {
        settings[key] = value;
        return this;
    }

    /// <summary>Changes the app's services (e.g. adds a test-only event handler); call before the app starts.</summary>
    public BirbalApp<TProgram> WithServices(Action<IServiceCollection> change)
    {
        serviceChanges.Add(change);
        return this;
    }

    public virtual async ValueTask InitializeAsync()
    {
        if (primary is null) database = await TestDatabase.CreateAsync();
    }

    /// <summary>Starts the app on a real loopback socket (for a browser), https with <c>Listen:Certificate…</c> set, and returns its base address.</summary>
    public Uri StartOnSocket(string scheme = "http")
    {
        // The app's own endpoints, on a free port and without the gRPC one: never the ports `make run` uses.
        With("Listen:Web", $"{scheme}://127.0.0.1:0");
        With("Listen:Grpc", "");
        UseKestrel();
        StartServer();
        var addresses = Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        return new Uri(addresses.First().Replace("[::]", "127.0.0.1").Replace("localhost", "127.0.0.1"));
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment(EnvironmentName);
        // Serve wwwroot from the projects as Development does (a published app carries its own copy).
        builder.UseStaticWebAssets();
        var defaults = new Dictionary<string, string?>
        {
            ["Database:ConnectionString"] = Database.ConnectionString,
            ["Redis:ConnectionString"] = TestServers.Redis,
            ["Redis:KeyPrefix"] = Prefix + ":",
            ["RabbitMq:Uri"] = TestServers.RabbitMq,
            ["RabbitMq:Prefix"] = Prefix + ".",
            ["RabbitMq:RetryDelaysMs"] = "50,100",
            ["RabbitMq:RelayIdleMs"] = "200",
            ["Secrets:JwtSigningKey"] = "test-jwt-signing-key-" + Prefix + "-0123456789abcdef",
            ["Secrets:EncryptionKey"] = "test-encryption-key-" + Prefix + "-0123456789abcdef",
            ["Logging:LogLevel:Default"] = "Warning",
            // Most test apps never moderate: the detector is built on first use instead (the real-process tests keep the warm-up).
            ["Ml:Serving:WarmUp"] = "false",
            ["Logging:Console:FormatterName"] = "simple",
        };
        foreach (var (key, value) in defaults.Where(d => !settings.ContainsKey(d.Key))) builder.UseSetting(key, value);
        foreach (var (key, value) in settings) builder.UseSetting(key, value);
        builder.ConfigureServices(services => serviceChanges.ForEach(change => change(services)));
    }

    public override async ValueTask DisposeAsync()
    {
        // Bounded: an app that cannot stop fails its class here rather than holding the whole run.
        try { await base.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromMinutes(2)); }
        catch (TimeoutException) { throw new TimeoutException($"the test app {Prefix} did not stop within 2 minutes"); }
        if (database is not null) await database.DisposeAsync();
        GC.SuppressFinalize(this);
    }
}
