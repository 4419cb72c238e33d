using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using BirbalAI.Testing;

namespace BirbalAI.IntegrationTests.Hosting;

/// <summary>The built BirbalAI.Web.dll run as its own process, as an operator runs it.</summary>
public sealed class AppProcess : IAsyncDisposable
{
    readonly Process process;
    readonly StringBuilder output = new();
    readonly StringBuilder errors = new();

    AppProcess(Process process)
    {
        this.process = process;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (errors) errors.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string Output { get { lock (output) return output.ToString(); } }
    public string Errors { get { lock (errors) return errors.ToString(); } }

    /// <summary>The checkout the tests run from (the folder of BirbalAI.sln).</summary>
    public static string RepoRoot
    {
        get
        {
            var directory = new DirectoryInfo(AppContext.BaseDirectory);
            while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "BirbalAI.sln"))) directory = directory.Parent;
            return directory?.FullName ?? throw new InvalidOperationException("BirbalAI.sln not found above the test output");
        }
    }

    public static string AppDll
    {
        get
        {
            var configuration = AppContext.BaseDirectory.Contains("/bin/Release/", StringComparison.Ordinal) ? "Release" : "Debug";
            return Path.Combine(RepoRoot, "BirbalAI.Web", "bin", configuration, "net10.0", "BirbalAI.Web.dll");
        }
    }

    /// <summary>Settings pointing at the test servers and <paramref name="database"/>, with a unique prefix.</summary>
    public static Dictionary<string, string?> Settings(TestDatabase database, string prefix) => new()
    {
        ["Database__ConnectionString"] = database.ConnectionString,
        ["Listen__Grpc"] = "",   // off unless a test gives it a free port: never the port `make run` uses
        ["Redis__ConnectionString"] = TestServers.Redis,
        ["Redis__KeyPrefix"] = prefix + ":",
        ["RabbitMq__Uri"] = TestServers.RabbitMq,
        ["RabbitMq__Prefix"] = prefix + ".",
        ["Secrets__JwtSigningKey"] = "process-test-jwt-signing-key-0123456789abcdef",
        ["Secrets__EncryptionKey"] = "process-test-encryption-key-0123456789abcdef",
    };

    public static AppProcess Start(IReadOnlyDictionary<string, string?> environment, params string[] args) => StartWithInput(environment, null, args);

    /// <summary>Starts the app; <paramref name="input"/>, when given, is written to its standard input, which is then closed.</summary>
    public static AppProcess StartWithInput(IReadOnlyDictionary<string, string?> environment, string? input, params string[] args) =>
        StartProgram("dotnet", [AppDll, .. args], environment, input, Path.GetDirectoryName(AppDll)!);

    /// <summary>
    /// Starts any program (the app through a wrapper script, or as another user) with only the settings the test
    /// gives: nothing of the developer's own environment that configures the app leaks in.
    /// </summary>
    public static AppProcess StartProgram(string fileName, IEnumerable<string> arguments, IReadOnlyDictionary<string, string?> environment,
        string? input, string workingDirectory)
    {
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardInput = input is not null,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        foreach (var arg in arguments) start.ArgumentList.Add(arg);
        foreach (var key in start.Environment.Keys.Where(k => k.Contains("__", StringComparison.Ordinal) || k.StartsWith("ASPNETCORE_", StringComparison.Ordinal)
                     || k.StartsWith("BIRBAL_", StringComparison.Ordinal) || k is "SecretsDirectory" or "CONFIGURATION").ToList())
            start.Environment.Remove(key);
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        foreach (var (key, value) in environment)
        {
            if (value is null) start.Environment.Remove(key);
            else start.Environment[key] = value;
        }
        var process = Process.Start(start)!;
        if (input is not null)
        {
            process.StandardInput.Write(input);
            process.StandardInput.Close();
        }
        return new AppProcess(process);
    }

    public async Task<int> ExitCodeAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(cts.Token);
        // Flushes the redirected streams; bounded, as a child the process left behind may hold them open.
        process.WaitForExit(TimeSpan.FromSeconds(10));
        return process.ExitCode;
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            // Bounded: the wait includes the end of the redirected output, which an escaped child could hold open.
            try { await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30)); }
            catch (TimeoutException) { }
        }
        process.Dispose();
    }
}
