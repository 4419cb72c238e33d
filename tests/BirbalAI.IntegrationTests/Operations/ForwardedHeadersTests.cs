using System.Net;
using System.Net.Http.Json;
using BirbalAI.Contracts.Identity;
using BirbalAI.Platform.Configuration;
using BirbalAI.Platform.Web;
using BirbalAI.Testing;
using Dapper;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using Npgsql;

namespace BirbalAI.IntegrationTests.Operations;

/// <summary>
/// Behind a TLS-terminating proxy (Proxy:TrustedProxies): the client's scheme and address come from X-Forwarded-Proto and
/// X-Forwarded-For when the proxy is trusted, and from the connection when it is not.
/// </summary>
public sealed class ForwardedHeadersTests : IAsyncLifetime
{
    readonly App app = new();
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync() => app.InitializeAsync();

    public ValueTask DisposeAsync() => app.DisposeAsync();

    /// <summary>Signs a member in through the page as a browser behind the proxy would; returns the session cookie and the audited address.</summary>
    async Task<(string Cookie, string? Ip)> SignInThroughProxyAsync(Uri address)
    {
        var (_, email) = await Accounts.CreateAsync(app, Roles.Member);
        using var client = new HttpClient(new ProxiedBrowserCookies()) { BaseAddress = address };
        client.DefaultRequestHeaders.Add("X-Forwarded-Proto", "https");
        client.DefaultRequestHeaders.Add("X-Forwarded-For", "203.0.113.7");
        client.DefaultRequestHeaders.Add("Origin", "https://" + address.Authority);
        var form = await client.GetDocumentAsync("/account/sign-in");
        var signedIn = await client.SubmitAsync(form, "#sign-in", new Dictionary<string, string> { ["Email"] = email, ["Password"] = Accounts.Password },
            pageUrl: "/account/sign-in");
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        var cookie = Assert.Single(signedIn.Headers.GetValues("Set-Cookie"), c => c.StartsWith("birbal.session=", StringComparison.Ordinal));
        await using var connection = new NpgsqlConnection(app.Database.ConnectionString);
        var ip = await connection.QuerySingleOrDefaultAsync<string?>(
            "select ip from identity.audit_log where kind = 'identity.sign-in' order by at desc limit 1");
        return (cookie, ip);
    }

    static IEnumerable<string> Attributes(string setCookie) => setCookie.Split(';').Skip(1).Select(a => a.Trim().ToLowerInvariant());

    [Fact]
    public async Task From_a_trusted_proxy_the_forwarded_scheme_and_client_address_count()
    {
        app.With("Proxy:TrustedProxies", "10.0.0.0/8, 127.0.0.1");
        var (cookie, ip) = await SignInThroughProxyAsync(app.StartOnSocket());

        Assert.Contains("secure", Attributes(cookie));   // the browser reached the proxy over https
        Assert.Equal("203.0.113.7", ip);
    }

    [Fact]
    public async Task From_anyone_else_the_forwarded_headers_are_ignored()
    {
        app.With("Proxy:TrustedProxies", "10.0.0.7");   // a proxy, but not the one this request came through
        var (cookie, ip) = await SignInThroughProxyAsync(app.StartOnSocket());

        Assert.DoesNotContain("secure", Attributes(cookie));
        Assert.Equal("127.0.0.1", ip);
    }

    [Fact]
    public void A_proxy_that_is_not_an_address_or_network_stops_start_up_naming_the_setting()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Proxy:TrustedProxies"] = "10.0.0.0/8, ingress.internal",
        }).Build();

        var refused = Assert.Throws<OptionsValidationException>(() => configuration.GetValidated<ProxyOptions>(ProxyOptions.Section));

        Assert.Contains("Proxy:TrustedProxies", refused.Message);
        Assert.Contains("'ingress.internal' is neither an IP address nor a network", refused.Message);
    }
}

/// <summary>
/// Cookies as the browser keeps them on its https side of the proxy: a Secure cookie is sent back although this leg is
/// plain http (an HttpClient cookie container would hold it back).
/// </summary>
sealed class ProxiedBrowserCookies() : DelegatingHandler(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false })
{
    readonly Dictionary<string, string> cookies = [];

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
    {
        if (cookies.Count > 0) request.Headers.Add("Cookie", string.Join("; ", cookies.Select(c => $"{c.Key}={c.Value}")));
        var response = await base.SendAsync(request, ct);
        if (response.Headers.TryGetValues("Set-Cookie", out var set))
            foreach (var pair in set.Select(c => c.Split(';')[0].Split('=', 2)))
                cookies[pair[0]] = pair[1];
        return response;
    }
}
