using System.Net;
using System.Text.Json;

namespace BirbalAI.IntegrationTests.Hosting;

public sealed class ReadinessTests(App app) : IClassFixture<App>
{
    [Fact]
    public async Task Readyz_is_green_when_PostgreSQL_Redis_and_RabbitMQ_answer_and_migrations_are_applied()
    {
        var response = await app.CreateClient().GetAsync("/readyz", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var report = JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.Equal("Healthy", report.RootElement.GetProperty("status").GetString());
        var checks = report.RootElement.GetProperty("checks");
        Assert.Equal(["postgres", "rabbitmq", "redis"], checks.EnumerateObject().Select(c => c.Name).Order());
        Assert.All(checks.EnumerateObject(), c => Assert.Equal("Healthy", c.Value.GetProperty("status").GetString()));
    }

    [Fact]
    public async Task Healthz_answers_without_touching_the_servers()
    {
        var response = await app.CreateClient().GetAsync("/healthz", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Healthy", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }
}
