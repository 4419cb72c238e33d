using Microsoft.Extensions.Options;
using BirbalAI.Contracts.Identity;
using BirbalAI.Contracts.Ml;
using BirbalAI.Ml.Moderation;
using BirbalAI.Ml.Policy;
using BirbalAI.Ml.Registry;
using BirbalAI.Ml.Serving;
using BirbalAI.Ml.Starter;
using BirbalAI.Ml.Text;
using BirbalAI.Platform;
using BirbalAI.Platform.Configuration;
using BirbalAI.Platform.Messaging;
using BirbalAI.Platform.Web;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace BirbalAI.Ml;

public static class MlModule
{
    public static IServiceCollection AddMlModule(this IServiceCollection services)
    {
        // Built on first use (about a second, ~150 MiB for the supported languages), then shared.
        services.AddSingleton<LanguageDetection>();
        services.AddValidatedOptions<MlOptions>(MlOptions.Section);
        services.AddValidatedOptions<ServingOptions>(ServingOptions.Section);
        services.AddValidatedOptions<ModerationLimits>(ModerationLimits.Section);
        services.AddValidatedOptions<WatchedWords.WatchedWordLimits>(WatchedWords.WatchedWordLimits.Section);
        services.AddMigrations("ml", typeof(MlModule).Assembly);
        services.AddValidation();
        services.AddSingleton<ModelRegistry>();
        services.AddSingleton<SessionFactory>();
        services.AddSingleton<ModelCatalog>();
        services.AddSingleton<MicroBatcher>();
        services.AddSingleton<PolicyStore>();
        services.AddSingleton<PolicyDrafts>();
        services.AddSingleton<Moderator>();
        services.AddSingleton<IModerator>(sp => sp.GetRequiredService<Moderator>());
        services.AddSingleton<BirbalAI.Platform.Operations.IInstanceFacts, ServingFacts>();
        services.AddValidatedOptions<Datasets.DatasetOptions>(Datasets.DatasetOptions.Section);
        services.AddSingleton<Datasets.Snapshots>();
        services.AddEventHandler<Contracts.Annotation.LabelAccepted, Datasets.LabelAcceptedHandler>("ml");
        services.AddEventHandler<Contracts.Chat.ContentRemoved, Datasets.ChatContentRemovedHandler>("ml");
        services.AddTransient<Jobs.ApplyDatasetRetentionJob>();
        services.AddValidatedOptions<Training.TrainingOptions>(Training.TrainingOptions.Section);
        services.AddSingleton<Training.TrainingJobs>();
        services.AddTransient<Jobs.TrainModelJob>();
        services.AddValidatedOptions<ActiveLearning.ActiveLearningOptions>(ActiveLearning.ActiveLearningOptions.Section);
        services.AddTransient<Jobs.ProposeTasksJob>();
        services.AddTransient<Jobs.RecoverTrainingJobsJob>();
        services.AddTransient<Jobs.AutoTrainJob>();
        services.AddValidatedOptions<Rescoring.RescoringOptions>(Rescoring.RescoringOptions.Section);
        services.AddSingleton<Rescoring.RescoringSources>();
        services.AddSingleton<Rescoring.RescoringRuns>();
        services.AddTransient<Jobs.RescoreContentJob>();
        services.AddTransient<Jobs.RecoverRescoringJob>();
        services.AddHostedService<Jobs.MlRecurringJobs>();
        // In this order: the starter model is registered before the catalogue loads production.
        services.AddHostedService<StarterModelRegistration>();
        services.AddHostedService<ModelServing>();
        services.AddHostedService<PolicyFollower>();
        // Before the default writer: errors under /v1 are written in OpenAI's envelope.
        services.Insert(0, ServiceDescriptor.Singleton<IProblemDetailsWriter, OpenAiErrors>());
        // Unknown services and methods fall through to the 404 fallback instead of gRPC catch-all endpoints.
        services.AddGrpc(o => o.IgnoreUnknownServices = true);
        // A gRPC message is a request body: the same limit as REST (ResourceExhausted above it).
        services.AddOptions<global::Grpc.AspNetCore.Server.GrpcServiceOptions>().Configure<IOptions<ModerationLimits>>((o, limits) =>
            o.MaxReceiveMessageSize = (int)Math.Min(int.MaxValue, limits.Value.MaxRequestBytes));
        services.AddAdminLink("Models", "/admin/ml/models", Policies.Admin, order: 300);
        services.AddAdminLink("Policy", "/admin/ml/policy", Policies.Admin, order: 310);
        services.AddAdminLink("Watched words", "/admin/ml/watched-words", Policies.Admin, order: 315);
        services.AddAdminLink("Datasets", "/admin/ml/datasets", Policies.Annotator, order: 302);
        services.AddAdminLink("Training", "/admin/ml/training", Policies.Admin, order: 304);
        services.AddAdminLink("Re-scoring", "/admin/ml/rescoring", Policies.Admin, order: 306);
        services.AddAdminLink("Try it", "/admin/ml/try", Policies.Annotator, order: 320);
        Cli.MlVerbs.Add(services);
        services.AddSingleton<IDemoContent, DemoModel>();
        services.AddSingleton<IDemoContent, Training.DemoTraining>();
        return services;
    }

    public static WebApplication MapMlModule(this WebApplication app)
    {
        var moderation = app.MapGroup("/api/moderation").WithTags("Moderation");
        CheckModeration.Map(moderation);
        OpenAiModerations.Map(app);
        var ml = app.MapGroup("/api/ml").WithTags("Models and policy");
        var models = ml.MapGroup("/models");
        ListModelVersions.Map(models);
        PromoteModelVersion.Map(models);
        GetPolicy.Map(ml);
        UpdatePolicy.Map(ml);
        PolicyDraftsApi.Map(ml);
        WatchedWords.WatchedWordsApi.Map(ml.MapGroup("/watched-words").WithTags("Watched words").RequireAuthorization(Policies.Admin));
        var datasets = ml.MapGroup("/datasets").WithTags("Datasets and training");
        Datasets.ImportExamples.Map(datasets);
        Datasets.SnapshotsApi.Map(datasets);
        Training.TrainingJobsApi.Map(ml);
        Rescoring.RescoringApi.Map(ml);
        Grpc.ModerationService.Map(app);
        return app;
    }
}
