using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Dapper;
using Npgsql;

namespace BirbalAI.IntegrationTests.Operations;

/// <summary>
/// TLS to PostgreSQL through the connection string the app takes (Database:ConnectionString), against a throwaway
/// server this class starts with a certificate it makes — never the shared test server, whose settings stay as they are.
/// PostgreSQL refuses to run as root, so the server runs as the postgres user (runuser): root only, skipped otherwise.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class PostgresTlsTests : IAsyncLifetime
{
    const string PgBin = "/usr/lib/postgresql/15/bin";
    static readonly string? Runuser = new[] { "/usr/sbin/runuser", "/sbin/runuser" }.FirstOrDefault(File.Exists);
    readonly string folder = Path.Combine(Path.GetTempPath(), $"birbal-pgtls-{Guid.NewGuid():N}");
    int port;
    bool started;
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    string Data => Path.Combine(folder, "data");
    string CaFile => Path.Combine(folder, "ca.crt");
    string OtherCaFile => Path.Combine(folder, "other-ca.crt");
    static bool CanRun => Environment.IsPrivilegedProcess && Runuser is not null && File.Exists(Path.Combine(PgBin, "initdb"));

    public async ValueTask InitializeAsync()
    {
        if (!CanRun) return;
        try
        {
            await StartServerAsync();
        }
        catch
        {
            await DisposeAsync();   // xunit does not dispose a class whose start failed
            throw;
        }
    }

    async Task StartServerAsync()
    {
        Directory.CreateDirectory(folder);
        File.SetUnixFileMode(folder, (UnixFileMode)Convert.ToInt32("755", 8));
        await RunAsync("/bin/chown", "postgres:postgres", folder);
        await RunAsync(Runuser!, "-u", "postgres", "--", Path.Combine(PgBin, "initdb"), "-D", Data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8");

        var (ca, caKey) = MakeCa("CN=Birbal test CA");
        using (caKey)
        {
            await File.WriteAllTextAsync(CaFile, ca.ExportCertificatePem(), Ct);
            using var serverKey = RSA.Create(2048);
            var request = new CertificateRequest("CN=127.0.0.1", serverKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            var names = new SubjectAlternativeNameBuilder();
            names.AddIpAddress(IPAddress.Loopback);
            request.CertificateExtensions.Add(names.Build());
            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
            using var server = request.Create(ca, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddDays(29), RandomNumberGenerator.GetBytes(8));
            await File.WriteAllTextAsync(Path.Combine(Data, "server.crt"), server.ExportCertificatePem(), Ct);
            await File.WriteAllTextAsync(Path.Combine(Data, "server.key"), serverKey.ExportPkcs8PrivateKeyPem(), Ct);
        }
        var (other, otherKey) = MakeCa("CN=Someone else's CA");
        otherKey.Dispose();
        await File.WriteAllTextAsync(OtherCaFile, other.ExportCertificatePem(), Ct);
        // Only TLS connections over TCP are let in.
        await File.WriteAllTextAsync(Path.Combine(Data, "pg_hba.conf"), "local all all trust\nhostssl all all 127.0.0.1/32 trust\nhostnossl all all 127.0.0.1/32 reject\n", Ct);
        await RunAsync("/bin/chown", "-R", "postgres:postgres", Data);
        File.SetUnixFileMode(Path.Combine(Data, "server.key"), UnixFileMode.UserRead | UnixFileMode.UserWrite);

        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }
        await RunAsync(Runuser!, "-u", "postgres", "--", Path.Combine(PgBin, "pg_ctl"), "-D", Data, "-l", Path.Combine(folder, "postgres.log"), "-w", "-t", "60",
            "-o", $"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={folder} -c ssl=on -c fsync=off", "start");
        started = true;
    }

    public async ValueTask DisposeAsync()
    {
        if (started)
            await RunAsync(Runuser!, "-u", "postgres", "--", Path.Combine(PgBin, "pg_ctl"), "-D", Data, "-m", "immediate", "-w", "stop");
        if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
    }

    static (X509Certificate2 Certificate, RSA Key) MakeCa(string subject)
    {
        var key = RSA.Create(2048);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: false, 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        return (request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30)), key);
    }

    static async Task RunAsync(string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = "/" };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync(Ct);
        var errors = process.StandardError.ReadToEndAsync(Ct);
        await process.WaitForExitAsync(Ct).WaitAsync(TimeSpan.FromMinutes(2), Ct);
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{Path.GetFileName(file)} {string.Join(' ', arguments)} exited {process.ExitCode}: {await output}{await errors}");
    }

    string ConnectionString(string tls) => $"Host=127.0.0.1;Port={port};Username=postgres;Database=postgres;Pooling=false;Timeout=30;{tls}";

    /// <summary>Connects as the app does (NpgsqlDataSourceBuilder over Database:ConnectionString) and asks the server whether the session is encrypted.</summary>
    async Task<(bool Ssl, string Version)> SessionAsync(string tls)
    {
        await using var db = new NpgsqlDataSourceBuilder(ConnectionString(tls)).Build();
        await using var connection = await db.OpenConnectionAsync(Ct);
        return await connection.QuerySingleAsync<(bool, string)>("select ssl, version from pg_stat_ssl where pid = pg_backend_pid()");
    }

    [Fact]
    public async Task The_connection_string_turns_on_verified_TLS_and_a_wrong_authority_or_no_TLS_is_refused()
    {
        if (!CanRun) Assert.Skip("PostgreSQL runs only as a user other than root (runuser needs root), so the TLS server is not started here");

        var (ssl, version) = await SessionAsync($"SSL Mode=VerifyFull;Root Certificate={CaFile}");
        Assert.True(ssl);
        Assert.StartsWith("TLSv1.", version);

        var plain = await Assert.ThrowsAsync<PostgresException>(() => SessionAsync("SSL Mode=Disable"));
        Assert.Equal("28000", plain.SqlState);   // pg_hba.conf: no entry for a connection without encryption
        var forged = await Assert.ThrowsAnyAsync<NpgsqlException>(() => SessionAsync($"SSL Mode=VerifyFull;Root Certificate={OtherCaFile}"));
        Assert.IsType<System.Security.Authentication.AuthenticationException>(forged.InnerException, exactMatch: false);
    }
}
