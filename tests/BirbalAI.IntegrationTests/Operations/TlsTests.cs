using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using BirbalAI.Contracts.Identity;
using BirbalAI.Platform;
using BirbalAI.Platform.Configuration;
using BirbalAI.Testing;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace BirbalAI.IntegrationTests.Operations;

/// <summary>Kestrel with a certificate from configuration: HTTPS with HTTP/2, HSTS and a secure session cookie.</summary>
public sealed class TlsTests : IAsyncLifetime
{
    readonly App app = new();
    readonly string folder = Directory.CreateTempSubdirectory("birbal-tls-").FullName;
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync() => app.InitializeAsync();

    public async ValueTask DisposeAsync()
    {
        await app.DisposeAsync();
        Directory.Delete(folder, recursive: true);
    }

    /// <summary>A self-signed server certificate for birbal.example.org and 127.0.0.1, as a password-protected .pfx.</summary>
    public static X509Certificate2 MakeCertificate(string pfxPath, string password)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=birbal.example.org", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("birbal.example.org");
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        File.WriteAllBytes(pfxPath, certificate.Export(X509ContentType.Pfx, password));
        return certificate;
    }

    [Fact]
    public async Task With_a_certificate_the_web_port_serves_HTTPS_and_HTTP2_with_gRPC_HSTS_and_a_secure_session_cookie()
    {
        var pfx = Path.Combine(folder, "server.pfx");
        using var certificate = MakeCertificate(pfx, "pfx-password");
        app.WithStarterModel();
        app.With("Listen:CertificatePath", pfx).With("Listen:CertificatePassword", "pfx-password").With("Listen:HstsMaxAgeDays", "30");
        var address = app.StartOnSocket("https");
        Assert.Equal("https", address.Scheme);
        var cookies = new CookieContainer();
        SocketsHttpHandler Handler(CookieContainer? jar) => new()
        {
            CookieContainer = jar ?? new CookieContainer(),
            AllowAutoRedirect = false,
            SslOptions = new SslClientAuthenticationOptions
            {
                // This certificate and no other: the test trusts what it made.
                RemoteCertificateValidationCallback = (_, presented, _, _) => presented?.GetCertHashString() == certificate.GetCertHashString(),
            },
        };
        using var client = new HttpClient(Handler(cookies)) { BaseAddress = address };

        // gRPC on the same port as the pages: TLS negotiates HTTP/2 (there is no separate gRPC port here).
        var (_, key, _) = await Accounts.WithApiKeyAsync(app, Roles.Member);
        using (var channel = GrpcChannel.ForAddress(address, new GrpcChannelOptions { HttpHandler = Handler(null) }))
        {
            var checkedText = await new BirbalAI.Ml.Grpc.Moderation.ModerationClient(channel).CheckAsync(
                new BirbalAI.Ml.Grpc.CheckRequest { Texts = { StarterModels.Threat } }, new Metadata { { "authorization", $"Bearer {key}" } }, cancellationToken: Ct);
            Assert.Equal("reject", checkedText.Results[0].Action);
        }

        using var http2 = new HttpRequestMessage(HttpMethod.Get, "/healthz") { Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact };
        var health = await client.SendAsync(http2, Ct);
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal(HttpVersion.Version20, health.Version);

        using var named = new HttpRequestMessage(HttpMethod.Get, "/account/sign-in");
        named.Headers.Host = "birbal.example.org";   // HSTS is never sent for localhost addresses
        var page = await client.SendAsync(named, Ct);
        Assert.Equal("max-age=2592000", string.Join(",", page.Headers.GetValues("Strict-Transport-Security")));

        var (_, email) = await Accounts.CreateAsync(app, Roles.Member);
        client.DefaultRequestHeaders.Add("Origin", address.GetLeftPart(UriPartial.Authority));
        var form = await client.GetDocumentAsync("/account/sign-in");
        var signedIn = await client.SubmitAsync(form, "#sign-in", new Dictionary<string, string> { ["Email"] = email, ["Password"] = Accounts.Password },
            pageUrl: "/account/sign-in");
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        var session = Assert.Single(signedIn.Headers.GetValues("Set-Cookie"), c => c.StartsWith("birbal.session=", StringComparison.Ordinal));
        Assert.Contains("secure", session, StringComparison.OrdinalIgnoreCase);
        Assert.Contains(cookies.GetAllCookies(), c => c.Name == "birbal.session" && c.Secure);
    }

    [Fact]
    public void An_https_address_without_a_certificate_stops_start_up_naming_the_setting()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Listen:Web"] = "https://0.0.0.0:8443",
        }).Build();

        var refused = Assert.Throws<OptionsValidationException>(() => configuration.GetValidated<ListenOptions>(ListenOptions.Section));

        Assert.Contains("Listen:CertificatePath", refused.Message);
    }
}
