using Microsoft.Playwright;
using Xunit;

namespace BirbalAI.Testing;

/// <summary>Debian's chromium driven by Playwright (`playwright install` cannot download browsers here).</summary>
public sealed class Browser : IAsyncLifetime
{
    IPlaywright? playwright;
    IBrowser? browser;

    public static string ExecutablePath => Environment.GetEnvironmentVariable("BIRBAL_CHROMIUM") ?? "/usr/bin/chromium";

    /// <summary>
    /// How long an expectation waits by default (Playwright's own is 5 s). Two busy cores can take longer than that to run
    /// a page's scripts (Swagger UI's, say); a test that expects something slower gives its own timeout.
    /// </summary>
    public const float ExpectTimeoutMs = 15_000;

    public async ValueTask InitializeAsync()
    {
        Assertions.SetDefaultExpectTimeout(ExpectTimeoutMs);
        playwright = await Playwright.CreateAsync();
        browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ExecutablePath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
    }

    /// <summary>A fresh context (its own cookies), like a separate person at a separate computer.</summary>
    public async Task<IPage> NewPageAsync(Uri baseAddress)
    {
        var context = await browser!.NewContextAsync(new BrowserNewContextOptions { BaseURL = baseAddress.ToString() });
        return await context.NewPageAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (browser is not null) await browser.DisposeAsync();
        playwright?.Dispose();
    }
}
