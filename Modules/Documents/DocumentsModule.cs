using BirbalAI.Contracts.Annotation;
using BirbalAI.Contracts.Documents;
using BirbalAI.Contracts.Identity;
using BirbalAI.Documents.Library;
using BirbalAI.Documents.Processing;
using BirbalAI.Documents.Review;
using BirbalAI.Documents.Uploads;
using BirbalAI.Platform;
using BirbalAI.Platform.Configuration;
using BirbalAI.Platform.Messaging;
using BirbalAI.Platform.Web;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace BirbalAI.Documents;

public static class DocumentsModule
{
    public const string Name = "documents";

    // The multipart envelope around the file: boundaries, part headers and the small fields.
    const long EnvelopeBytes = 64 * 1024;

    public static IServiceCollection AddDocumentsModule(this IServiceCollection services)
    {
        services.AddValidatedOptions<DocumentsOptions>(DocumentsOptions.Section);
        services.AddMigrations(Name, typeof(DocumentsModule).Assembly);
        services.AddValidation();
        services.AddSingleton<Extraction>();
        services.AddSingleton<DocumentAccess>();
        services.AddSingleton<LiveStatus>();
        services.AddSingleton<IDocumentReviewSource, DocumentReviewSource>();
        services.AddSingleton<Platform.Documents.IDocumentStoreOwner, DocumentBodies>();
        services.AddSingleton(new RequestBodyLimit("POST", "/api/documents",
            sp => sp.GetRequiredService<IOptions<DocumentsOptions>>().Value.MaxUploadBytes + EnvelopeBytes, "Documents:MaxUploadBytes"));
        services.AddEventHandler<DocumentUploaded, DocumentUploadedHandler>(Name);
        services.AddEventHandler<ContentDecided, ContentDecidedHandler>(Name);
        services.AddSingleton<IDocumentContentSource, DocumentContentSource>();
        services.AddEventHandler<BirbalAI.Contracts.Ml.VerdictsRevised, VerdictsRevisedHandler>(Name);
        Cli.RotateKey.Add(services);
        services.AddSingleton<IDemoContent, DemoDocuments>();
        services.AddAdminLink("Documents", "/documents", Policies.Member, order: 12);
        return services;
    }

    public static WebApplication MapDocumentsModule(this WebApplication app)
    {
        var documents = app.MapGroup("/api/documents").WithTags("Documents").RequireAuthorization(Policies.Member);
        UploadDocument.Map(documents);
        DocumentsApi.Map(documents);
        app.MapModuleHub<DocumentsHub>("/hubs/documents");
        return app;
    }
}
