using BirbalAI.Platform.Configuration;
using BirbalAI.Platform.Database;
using BirbalAI.Platform.Messaging;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace BirbalAI.Platform.Tests.Configuration;

public sealed class ValidatedOptionsTests
{
    static IServiceProvider Services(Dictionary<string, string?> settings, string environment = "Production")
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        services.AddSingleton<IHostEnvironment>(new FakeEnvironment { EnvironmentName = environment });
        services.AddValidatedOptions<DatabaseOptions>(DatabaseOptions.Section);
        services.AddValidatedOptions<RabbitMqOptions>(RabbitMqOptions.Section);
        services.AddValidatedOptions<SecretsOptions>(SecretsOptions.Section)
            .PostConfigure<IHostEnvironment>((o, env) => o.IsDevelopment = env.IsDevelopment());
        return services.BuildServiceProvider();
    }

    [Fact]
    public void A_missing_setting_is_named_as_it_is_written_in_configuration()
    {
        var error = Assert.Throws<OptionsValidationException>(() => Services([]).GetRequiredService<IOptions<DatabaseOptions>>().Value);

        Assert.Equal("Database:ConnectionString: The ConnectionString field is required.", Assert.Single(error.Failures));
    }

    [Theory]
    [InlineData("http://127.0.0.1:5672/", "1000", "RabbitMq:Uri: must be an amqp:// or amqps:// URI")]
    [InlineData("amqp://127.0.0.1/", "0,5", "RabbitMq:RetryDelaysMs: must be comma-separated delays")]
    [InlineData("amqp://127.0.0.1/", "soon", "RabbitMq:RetryDelaysMs: must be comma-separated delays")]
    public void A_wrong_setting_is_named_with_what_is_wrong(string uri, string delays, string expected)
    {
        var settings = new Dictionary<string, string?> { ["RabbitMq:Uri"] = uri, ["RabbitMq:RetryDelaysMs"] = delays };

        var error = Assert.Throws<OptionsValidationException>(() => Services(settings).GetRequiredService<IOptions<RabbitMqOptions>>().Value);

        Assert.StartsWith(expected, Assert.Single(error.Failures));
    }

    [Fact]
    public void Development_keys_are_refused_outside_Development()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Secrets:JwtSigningKey"] = "dev-0123456789abcdef0123456789abcdef",
            ["Secrets:EncryptionKey"] = "a-production-key-0123456789abcdef0123",
        };

        var error = Assert.Throws<OptionsValidationException>(() => Services(settings).GetRequiredService<IOptions<SecretsOptions>>().Value);
        Assert.Equal("Secrets:JwtSigningKey: is a development key; supply your own outside Development", Assert.Single(error.Failures));

        var development = Services(settings, "Development").GetRequiredService<IOptions<SecretsOptions>>().Value;
        Assert.StartsWith("dev-", development.JwtSigningKey);
    }

    [Fact]
    public void Keys_shorter_than_32_characters_are_refused()
    {
        var settings = new Dictionary<string, string?> { ["Secrets:JwtSigningKey"] = "short", ["Secrets:EncryptionKey"] = new string('k', 32) };

        var error = Assert.Throws<OptionsValidationException>(() => Services(settings).GetRequiredService<IOptions<SecretsOptions>>().Value);

        Assert.StartsWith("Secrets:JwtSigningKey:", Assert.Single(error.Failures));
    }

    [Theory]
    [InlineData(null, "all", true, true)]
    [InlineData("web", "web", true, false)]
    [InlineData("WORKER", "worker", false, true)]
    public void Roles_decide_what_a_process_does(string? value, string name, bool web, bool workers)
    {
        var role = HostRole.Parse(value);

        Assert.Equal((name, web, workers), (role.Name, role.ServesWeb, role.RunsWorkers));
    }

    [Fact]
    public void An_unknown_role_is_refused_with_the_choices()
    {
        var error = Assert.Throws<HostRoleException>(() => HostRole.Parse("both"));

        Assert.Equal("role: 'both' is not a role; use --role all, web or worker.", error.Message);
    }

    sealed class FakeEnvironment : IHostEnvironment
    {
        public string EnvironmentName { get; set; } = "";
        public string ApplicationName { get; set; } = "tests";
        public string ContentRootPath { get; set; } = "";
        public Microsoft.Extensions.FileProviders.IFileProvider ContentRootFileProvider { get; set; } = null!;
    }
}
