using Microsoft.Playwright;

namespace BirbalAI.BrowserTests;

public sealed class HomePageTests(BrowserApp app) : IClassFixture<BrowserApp>
{
    [Fact]
    public async Task The_home_page_renders_styled_in_chromium_and_is_usable_by_keyboard()
    {
        var page = await app.Browser.NewPageAsync(app.Address);

        var response = await page.GotoAsync("/");

        Assert.Equal(200, response!.Status);
        Assert.Equal("Home · Birbal AI", await page.TitleAsync());
        Assert.Equal("Birbal AI", await page.Locator("main h1").InnerTextAsync());
        // The stylesheet loaded: the header is dark, not the browser's default white.
        Assert.Equal("rgb(29, 35, 48)", await page.Locator("header.top").EvaluateAsync<string>("e => getComputedStyle(e).backgroundColor"));
        // The first Tab lands on the skip link, and following it moves focus to the content.
        await page.Keyboard.PressAsync("Tab");
        Assert.Equal("Skip to content", await page.EvaluateAsync<string>("() => document.activeElement.textContent"));
        await page.Keyboard.PressAsync("Enter");
        Assert.Equal("main", await page.EvaluateAsync<string>("() => document.activeElement.id"));
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(BrowserApp.ScreenshotDirectory, "home.png"), FullPage = true });
    }

    [Fact]
    public async Task Swagger_UI_renders_the_api_document_without_the_internet()
    {
        var page = await app.Browser.NewPageAsync(app.Address);
        var failed = new List<string>();
        page.RequestFailed += (_, request) => failed.Add(request.Url);

        await page.GotoAsync("/swagger/index.html");

        await Assertions.Expect(page.Locator(".swagger-ui .title")).ToContainTextAsync("Birbal AI");
        Assert.Empty(failed);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(BrowserApp.ScreenshotDirectory, "swagger.png") });
    }
}
