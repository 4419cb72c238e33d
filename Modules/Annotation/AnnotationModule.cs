using BirbalAI.Annotation.Handlers;
using BirbalAI.Annotation.Projects;
using BirbalAI.Annotation.Queue;
using BirbalAI.Annotation.Tasks;
using BirbalAI.Contracts.Chat;
using BirbalAI.Contracts.Identity;
using BirbalAI.Platform;
using BirbalAI.Platform.Configuration;
using BirbalAI.Platform.Messaging;
using BirbalAI.Platform.Web;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace BirbalAI.Annotation;

public static class AnnotationModule
{
    public const string Name = "annotation";

    public static IServiceCollection AddAnnotationModule(this IServiceCollection services)
    {
        services.AddValidatedOptions<AnnotationOptions>(AnnotationOptions.Section);
        services.AddMigrations(Name, typeof(AnnotationModule).Assembly);
        services.AddValidation();
        services.AddSingleton<Guidelines>();
        services.AddSingleton<IDemoContent, Projects.DemoProject>();
        services.AddSingleton<TaskIntake>();
        services.AddSingleton<Backfill>();
        services.AddSingleton<LabellingQueue>();
        services.AddSingleton<Publisher>();
        services.AddSingleton<Quality.Reviews>();
        services.AddTransient<Jobs.ImportTasksJob>();
        services.AddHostedService<AnnotationStartup>();
        services.AddHostedService(sp => sp.GetRequiredService<Publisher>());
        services.AddEventHandler<MessageHeld, MessageHeldHandler>(Name);
        services.AddEventHandler<MessageFlagged, MessageFlaggedHandler>(Name);
        services.AddEventHandler<MessageDecided, MessageDecidedHandler>(Name);
        services.AddEventHandler<MessageWithdrawn, MessageWithdrawnHandler>(Name);
        services.AddEventHandler<BirbalAI.Contracts.Documents.ChunkHeld, ChunkHeldHandler>(Name);
        services.AddEventHandler<BirbalAI.Contracts.Documents.ChunkFlagged, ChunkFlaggedHandler>(Name);
        services.AddEventHandler<BirbalAI.Contracts.Ml.TasksProposed, TasksProposedHandler>(Name);
        services.AddAdminLink("Review", "/annotation", Policies.Annotator, order: 15);
        return services;
    }

    public static WebApplication MapAnnotationModule(this WebApplication app)
    {
        var annotation = app.MapGroup("/api/annotation").WithTags("Review and annotation").RequireAuthorization(Policies.Annotator);
        QueueApi.Map(annotation);
        ProjectsApi.Map(annotation);
        Quality.QualityApi.Map(annotation);
        Import.ImportTasks.Map(annotation);
        Export.ExportLabels.Map(annotation);
        return app;
    }
}
