using BirbalAI.Annotation;
using BirbalAI.Chat;
using BirbalAI.Documents;
using BirbalAI.Identity;
using BirbalAI.Ml;
using BirbalAI.Platform;
using BirbalAI.Web;
using BirbalAI.Workers;

return await Cli.RunAsync(args, async () =>
{
    var builder = WebApplication.CreateBuilder(Cli.ConfigurationArgs(args));
    if (Cli.IsVerb(args)) Cli.LogToStandardError(builder);
    var role = builder.AddPlatform();
    builder.Services.AddIdentityModule();
    builder.Services.AddMlModule();
    builder.Services.AddChatModule();
    builder.Services.AddAnnotationModule();
    builder.Services.AddDocumentsModule();
    builder.Services.AddWorkers(role);
    if (role.ServesWeb) builder.Services.AddRazorPages();

    var app = builder.Build();
    if (Cli.IsVerb(args)) return await Cli.RunVerbAsync(app, args);

    app.MapPlatform();   // health, metrics and API docs: open to all, so before authentication
    if (role.ServesWeb)
    {
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseRateLimiter();
        app.MapIdentityModule();
        app.MapMlModule();
        app.MapChatModule();
        app.MapAnnotationModule();
        app.MapDocumentsModule();
        app.MapStaticAssets().AllowAnonymous();
        app.MapRazorPages();
    }
    await app.RunAsync();
    return 0;
});
