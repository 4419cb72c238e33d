using BirbalAI.Platform;
using BirbalAI.Web;
using BirbalAI.Workers;

return await Cli.RunAsync(args, async () =>
{
    var builder = WebApplication.CreateBuilder(args);
    var role = builder.AddPlatform();
    builder.Services.AddWorkers(role);
    if (role.ServesWeb) builder.Services.AddRazorPages();

    var app = builder.Build();
    if (Cli.IsVerb(args)) return await Cli.RunVerbAsync(app, args);

    app.MapPlatform();
    if (role.ServesWeb)
    {
        app.MapStaticAssets();
        app.MapRazorPages();
    }
    await app.RunAsync();
    return 0;
});
