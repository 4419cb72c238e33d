using BirbalAI.Ml.Registry;
using BirbalAI.Ml.Starter;
using BirbalAI.Ml.Text;
using BirbalAI.Platform;
using BirbalAI.Platform.Configuration;
using BirbalAI.Platform.Web;
using BirbalAI.Contracts.Identity;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace BirbalAI.Ml;

public static class MlModule
{
    public static IServiceCollection AddMlModule(this IServiceCollection services)
    {
        // Built on first use (about a second, ~150 MiB for the supported languages), then shared.
        services.AddSingleton<LanguageDetection>();
        services.AddValidatedOptions<MlOptions>(MlOptions.Section);
        services.AddMigrations("ml", typeof(MlModule).Assembly);
        services.AddSingleton<ModelRegistry>();
        services.AddHostedService<StarterModelRegistration>();
        services.AddAdminLink("Models", "/admin/ml/models", Policies.Admin, order: 300);
        Cli.MlVerbs.Add(services);
        return services;
    }

    public static WebApplication MapMlModule(this WebApplication app) => app;
}
