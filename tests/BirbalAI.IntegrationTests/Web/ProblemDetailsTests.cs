using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace BirbalAI.IntegrationTests.Web;

/// <summary>Every /api error is RFC 7807 problem details, including errors of middleware a module adds.</summary>
public sealed class ProblemDetailsTests(ProblemDetailsTests.Fixture fixture) : IClassFixture<ProblemDetailsTests.Fixture>
{
    /// <summary>One app for the class, with the throwing endpoints added: the tests only send requests that change nothing.</summary>
    public sealed class Fixture : IAsyncLifetime
    {
        public App App { get; } = new();

        public async ValueTask InitializeAsync()
        {
            await App.InitializeAsync();
            App.WithServices(services => services.AddSingleton<IStartupFilter, ThrowingEndpoint>());
        }

        public ValueTask DisposeAsync() => App.DisposeAsync();
    }

    readonly App app = fixture.App;

    static async Task<JsonElement> ProblemAsync(HttpResponseMessage response)
    {
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
    }

    [Fact]
    public async Task An_unknown_api_path_is_a_404_problem()
    {
        var response = await app.CreateClient().GetAsync("/api/no-such-thing", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var problem = await ProblemAsync(response);
        Assert.Equal(404, problem.GetProperty("status").GetInt32());
        Assert.Equal("Not Found", problem.GetProperty("title").GetString());
        Assert.Matches("^[0-9a-f]{32}$", problem.GetProperty("traceId").GetString());
    }

    [Fact]
    public async Task An_unhandled_exception_is_a_500_problem_that_reveals_nothing_inside()
    {
        var response = await app.CreateClient().GetAsync("/api/test/throws", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        var problem = await ProblemAsync(response);
        Assert.Equal(500, problem.GetProperty("status").GetInt32());
        Assert.Matches("^[0-9a-f]{32}$", problem.GetProperty("traceId").GetString());
        var body = problem.GetRawText();
        Assert.DoesNotContain("secret-detail", body);
        Assert.DoesNotContain("ThrowingEndpoint", body);
    }

    [Fact]
    public async Task A_page_error_gets_the_error_page_not_json()
    {
        var response = await app.CreateClient().GetAsync("/test/throws", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("Something went wrong", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    sealed class ThrowingEndpoint : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Map("/api/test/throws", b => b.Run(_ => throw new InvalidOperationException("secret-detail")));
            app.Map("/test/throws", b => b.Run(_ => throw new InvalidOperationException("secret-detail")));
            next(app);
        };
    }
}
