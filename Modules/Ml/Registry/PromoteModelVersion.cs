using System.Security.Claims;
using BirbalAI.Contracts.Identity;
using BirbalAI.Ml.Serving;
using BirbalAI.Platform.Messaging;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace BirbalAI.Ml.Registry;

/// <summary>
/// POST /api/ml/models/{version}/promote (and the CLI verb `ml promote`): makes a version production, audited,
/// then tells every replica, which loads it and swaps without failing a request.
/// </summary>
static class PromoteModelVersion
{
    public sealed record Response(Guid Id, int Number, string Name);

    public static void Map(RouteGroupBuilder models) => models.MapPost("/{version}/promote", Handle)
        .RequireAuthorization(Policies.Admin)
        .WithSummary("Make a model version production (Admins); every replica swaps to it")
        .ProducesProblem(StatusCodes.Status404NotFound);

    static async Task<Results<Ok<Response>, ProblemHttpResult>> Handle(string version, ClaimsPrincipal user, IServiceProvider services, CancellationToken ct) =>
        await PromoteAsync(services, version, user, ct) is { } promoted
            ? TypedResults.Ok(new Response(promoted.Id, promoted.Number, $"birbal-v{promoted.Number}"))
            : TypedResults.Problem($"No model version \"{version}\": give its number (3, v3, birbal-v3) or its id.", statusCode: 404, title: "Unknown model version");

    /// <summary>Promotes the version named <paramref name="name"/>; null when there is none.</summary>
    public static async Task<ModelVersion?> PromoteAsync(IServiceProvider services, string name, ClaimsPrincipal? actor, CancellationToken ct)
    {
        var registry = services.GetRequiredService<ModelRegistry>();
        if (await registry.FindAsync(name, ct) is not { } version) return null;
        var previous = await registry.ProductionAsync(ct);
        await using (var connection = await services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync(ct))
        await using (var tx = await connection.BeginTransactionAsync(ct))
        {
            if (!await ModelRegistry.PromoteAsync(connection, tx, version.Id, actor?.UserIdOrNull(), ct)) return null;
            await services.GetRequiredService<IAuditLog>().RecordAsync(new AuditEntry("ml.model-promoted", actor?.UserIdOrNull(),
                $"model v{version.Number}", new Dictionary<string, string?>
                {
                    ["version_id"] = version.Id.ToString(),
                    ["previous"] = previous is null ? null : $"v{previous.Number}",
                    ["via"] = actor is null ? "cli" : "api",
                }), tx, ct);
            await tx.CommitAsync(ct);
        }
        await services.GetRequiredService<Broadcasts>().PublishAsync(ModelCatalog.ProductionChannel, version.Id.ToString());
        return version;
    }
}

/// <summary>GET /api/ml/models: every registered version, newest first, with its metrics summary (Admins).</summary>
static class ListModelVersions
{
    public sealed record Row(Guid Id, int Number, string Name, DateTime CreatedAt, string Source, IReadOnlyList<string> Categories,
        double? MacroF1, double? MicroF1, bool Production, bool Loaded, string Kind, IReadOnlyList<string> Components);

    public static void Map(RouteGroupBuilder models) => models.MapGet("/", Handle)
        .RequireAuthorization(Policies.Admin)
        .WithSummary("List model versions (Admins)");

    static async Task<Ok<IReadOnlyList<Row>>> Handle(ModelRegistry registry, ModelCatalog catalog, CancellationToken ct)
    {
        var production = await registry.ProductionAsync(ct);
        var loaded = catalog.Loaded.Select(r => r.Id).ToHashSet();
        return TypedResults.Ok<IReadOnlyList<Row>>([.. (await registry.ListAsync(ct)).Select(v => new Row(
            v.Id, v.Number, $"birbal-v{v.Number}", v.CreatedAt, v.Source, v.Categories, v.Evaluation?.MacroF1, v.Evaluation?.MicroF1,
            v.Id == production?.Id, loaded.Contains(v.Id), v.Kind, [.. v.ComponentList.Select(c => c.Kind)]))]);
    }
}
