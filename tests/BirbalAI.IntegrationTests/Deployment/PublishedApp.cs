using System.Diagnostics;
using System.Security.Cryptography;
using BirbalAI.IntegrationTests.Hosting;

namespace BirbalAI.IntegrationTests.Deployment;

/// <summary>
/// `dotnet publish` of the app laid out as the Dockerfile lays out the image: the publish output with the starter
/// model in models/starter, owned by root and read-only to everyone else. Published once per build of the app:
/// the folder is named by a hash of the built assemblies, so a second test run (or class) reuses it.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
static class PublishedApp
{
    static readonly Lazy<Task<string>> Published = new(PublishAsync);

    public static Task<string> DirectoryAsync() => Published.Value;

    static async Task<string> PublishAsync()
    {
        var built = Path.GetDirectoryName(AppProcess.AppDll)!;
        var configuration = AppProcess.AppDll.Contains("/Release/", StringComparison.Ordinal) ? "Release" : "Debug";
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var file in Directory.GetFiles(built, "BirbalAI.*.dll").Order(StringComparer.Ordinal))
            hash.AppendData(await File.ReadAllBytesAsync(file));
        foreach (var file in Directory.GetFiles(built, "appsettings*.json").Concat(Directory.GetFiles(FixtureModel.Directory)).Order(StringComparer.Ordinal))
            hash.AppendData(await File.ReadAllBytesAsync(file));
        // One folder per checkout (other checkouts' runs share /tmp), holding this build's publish only.
        var parent = Path.Combine(Path.GetTempPath(), "birbal-publish-" + Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(AppProcess.RepoRoot)))[..8]);
        var directory = Path.Combine(parent, Convert.ToHexStringLower(hash.GetHashAndReset())[..16]);
        if (File.Exists(Path.Combine(directory, "BirbalAI.Web.dll"))) return directory;
        if (Directory.Exists(parent))
            foreach (var stale in Directory.GetDirectories(parent)) Directory.Delete(stale, recursive: true);   // an earlier build's (~500 MB)

        // What `dotnet publish` in the Dockerfile's build stage produces, from the build the tests already have.
        Directory.CreateDirectory(parent);
        var staging = directory + ".staging-" + Environment.ProcessId;
        if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        var publish = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { "publish", Path.Combine(AppProcess.RepoRoot, "BirbalAI.Web", "BirbalAI.Web.csproj"), "-c", configuration, "--no-build", "-nologo", "-o", staging },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            // No build nodes or servers left behind holding the redirected output open (the read would never end).
            Environment = { ["MSBUILDDISABLENODEREUSE"] = "1", ["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0", ["UseSharedCompilation"] = "false" },
        };
        using (var process = Process.Start(publish)!)
        {
            var output = process.StandardOutput.ReadToEndAsync();
            var errors = process.StandardError.ReadToEndAsync();
            using var patience = new CancellationTokenSource(TimeSpan.FromMinutes(5));
            try { await process.WaitForExitAsync(patience.Token); }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException("dotnet publish did not finish within 5 minutes");
            }
            if (process.ExitCode != 0) throw new InvalidOperationException($"dotnet publish failed:\n{await output}\n{await errors}");
        }
        // The image's starter model (the Dockerfile trains the real one; the tests' fixture model stands in for it).
        var model = Directory.CreateDirectory(Path.Combine(staging, "models", "starter")).FullName;
        foreach (var file in Directory.GetFiles(FixtureModel.Directory)) File.Copy(file, Path.Combine(model, Path.GetFileName(file)));
        // Read-only to the app's user, as COPY into the image leaves it: directories 755, files 644, owned by the test's user.
        foreach (var sub in Directory.GetDirectories(staging, "*", SearchOption.AllDirectories).Append(staging))
            File.SetUnixFileMode(sub, (UnixFileMode)Convert.ToInt32("755", 8));
        foreach (var file in Directory.GetFiles(staging, "*", SearchOption.AllDirectories))
            File.SetUnixFileMode(file, (UnixFileMode)Convert.ToInt32("644", 8));
        Directory.CreateDirectory(parent);
        File.SetUnixFileMode(parent, (UnixFileMode)Convert.ToInt32("755", 8));
        try { Directory.Move(staging, directory); }
        catch (IOException) when (File.Exists(Path.Combine(directory, "BirbalAI.Web.dll"))) { Directory.Delete(staging, recursive: true); }   // another run won
        return directory;
    }
}
