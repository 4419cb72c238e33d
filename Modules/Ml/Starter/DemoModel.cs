using BirbalAI.Ml.Registry;
using BirbalAI.Ml.Training;
using BirbalAI.Platform;
using Microsoft.Extensions.Options;

namespace BirbalAI.Ml.Starter;

/// <summary>
/// The demo's moderator: the model in production, or the starter model registered as it would be at start-up
/// (a verb runs before the app has started). First, so nothing is made when no model can judge the conversation.
/// </summary>
sealed class DemoModel(IOptions<MlOptions> options, ModelRegistry registry) : IDemoContent
{
    public int Order => 0;

    // A registered model is not content: an installation that has only started once has the starter model.
    public Task<string?> ExistingContentAsync(CancellationToken ct) => Task.FromResult<string?>(null);

    public async Task AddAsync(DemoInstallation demo, CancellationToken ct)
    {
        var production = await registry.ProductionAsync(ct);
        if (production is null && options.Value.StarterModelDirectory is { Length: > 0 } directory && (await registry.ListAsync(ct)).Count == 0)
            production = await registry.RegisterFirstAsync(ModelPackage.Read(directory), ct);
        if (production is null)
            throw new CliRefusedException("demo refused: no model is in production to moderate the conversation; " +
                "start the app once with Ml:StarterModelDirectory set (make run does), or `ml register --model DIR --promote`");
        await demo.Output.WriteLineAsync($"demo: messages are moderated by v{production.Number}, the model in production");
    }
}
