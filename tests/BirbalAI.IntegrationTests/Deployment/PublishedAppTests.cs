using System.Net;
using BirbalAI.IntegrationTests.Hosting;
using BirbalAI.Testing;

namespace BirbalAI.IntegrationTests.Deployment;

/// <summary>
/// What the image runs, without Docker: the publish output started as an unprivileged user (the image's USER),
/// in the publish folder as its content root (the image's WORKDIR), unable to write anything but the volume paths
/// (the blob cache and /tmp, as `docker run --read-only --tmpfs /tmp -v …` leaves it), on an empty database.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class PublishedAppTests : IAsyncLifetime
{
    const string User = "nobody";
    static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);
    readonly string prefix = TestServers.UniqueName();
    TestDatabase database = null!;
    DirectoryInfo volume = null!, secrets = null!;

    public async ValueTask InitializeAsync()
    {
        database = await TestDatabase.CreateEmptyAsync();
        volume = Directory.CreateTempSubdirectory("birbal-volume-");
        secrets = Directory.CreateTempSubdirectory("birbal-secrets-");
    }

    public async ValueTask DisposeAsync()
    {
        await database.DisposeAsync();
        volume.Delete(recursive: true);
        secrets.Delete(recursive: true);
    }

    static string? Runuser => new[] { "/usr/sbin/runuser", "/sbin/runuser" }.FirstOrDefault(File.Exists);

    static async Task<int> AsUserAsync(params string[] command)
    {
        await using var process = AppProcess.StartProgram(Runuser!, ["-u", User, "--", .. command], new Dictionary<string, string?>(), null, "/");
        return await process.ExitCodeAsync(Patience);
    }

    [Fact]
    public async Task The_publish_output_run_as_an_unprivileged_user_with_only_its_volumes_writable_gets_ready()
    {
        if (!Environment.IsPrivilegedProcess)
            Assert.Skip("starting the app as another user (runuser) needs root; these tests run as an unprivileged user, so the image's run is not checked here");
        if (Runuser is null) Assert.Skip("runuser (util-linux) is not installed");

        var published = await PublishedApp.DirectoryAsync();
        // The volumes: writable to everyone, as an emptyDir or a fresh Docker volume is to the image's user.
        var blobCache = Path.Combine(volume.FullName, "blobs");
        File.SetUnixFileMode(volume.FullName, (UnixFileMode)Convert.ToInt32("1777", 8));
        // The secrets as a mounted Secret: one readable file per setting.
        File.SetUnixFileMode(secrets.FullName, (UnixFileMode)Convert.ToInt32("755", 8));
        foreach (var (name, value) in new[] { ("Secrets__JwtSigningKey", "published-jwt-signing-key-0123456789abcdef"), ("Secrets__EncryptionKey", "published-encryption-key-0123456789abcdef") })
        {
            var file = Path.Combine(secrets.FullName, name);
            await File.WriteAllTextAsync(file, value, TestContext.Current.CancellationToken);
            File.SetUnixFileMode(file, (UnixFileMode)Convert.ToInt32("644", 8));
        }

        // The premise, so this test cannot pass by accident: the user writes to the volume and nowhere in the app.
        Assert.Equal(0, await AsUserAsync("test", "-w", volume.FullName));
        Assert.NotEqual(0, await AsUserAsync("test", "-w", published));
        Assert.NotEqual(0, await AsUserAsync("test", "-w", Path.Combine(published, "models", "starter")));
        Assert.NotEqual(0, await AsUserAsync("test", "-w", Path.Combine(published, "wwwroot")));
        Assert.Equal(0, await AsUserAsync("test", "-r", Path.Combine(published, "BirbalAI.Web.dll")));

        var port = AppProcess.FreePort();
        var settings = AppProcess.Settings(database, prefix);
        settings.Remove("Secrets__JwtSigningKey");
        settings.Remove("Secrets__EncryptionKey");
        // The image's ENV, with this test's ports and paths.
        settings["SecretsDirectory"] = secrets.FullName;
        settings["Listen__Web"] = $"http://127.0.0.1:{port}";
        settings["Ml__StarterModelDirectory"] = Path.Combine(published, "models", "starter");
        settings["Blobs__CacheDirectory"] = blobCache;
        settings["HOME"] = "/nonexistent";
        await using var app = AppProcess.StartProgram(Runuser!, ["-u", User, "--", "dotnet", Path.Combine(published, "BirbalAI.Web.dll"), "--role", "all"],
            settings, null, published);
        using var http = new HttpClient();

        await Eventually.TrueAsync(async () =>
        {
            try { return (await http.GetAsync($"http://127.0.0.1:{port}/readyz")).StatusCode == HttpStatusCode.OK; }
            catch (HttpRequestException) { return false; }
        }, $"the published app is ready ({app.Errors})", Patience);

        // It migrated the empty database, registered the image's starter model and loaded it through the cache volume.
        await Eventually.TrueAsync(() => Task.FromResult(Directory.Exists(blobCache) && Directory.EnumerateFiles(blobCache, "*", SearchOption.AllDirectories).Any()),
            $"the starter model's blobs are cached on the volume ({app.Errors})", Patience);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"http://127.0.0.1:{port}/account/sign-in", TestContext.Current.CancellationToken)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"http://127.0.0.1:{port}/css/site.css", TestContext.Current.CancellationToken)).StatusCode);
        // appsettings.json was read from the content root: Production logs are JSON lines.
        Assert.StartsWith("{\"Timestamp\":", app.Output.Split('\n')[0]);
        Assert.DoesNotContain("UnauthorizedAccessException", app.Output + app.Errors);
        Assert.DoesNotContain("Permission denied", app.Output + app.Errors);
    }
}
