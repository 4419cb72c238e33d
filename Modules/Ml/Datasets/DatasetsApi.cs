using System.Security.Claims;
using System.Text.RegularExpressions;
using BirbalAI.Contracts.Identity;
using BirbalAI.Ml.Data;
using BirbalAI.Ml.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;
using Npgsql;

namespace BirbalAI.Ml.Datasets;

/// <summary>
/// POST /api/ml/datasets/import?format=jsonl|csv&amp;name=…: labelled examples from a file in the engine's format (Admins). Every bad row is
/// reported by line and nothing is imported; each text is stored once per import name (re-importing a file changes nothing).
/// </summary>
static partial class ImportExamples
{
    public sealed record Response(int Rows, int Added, int Updated, string Source);

    public static void Map(RouteGroupBuilder datasets) => datasets.MapPost("/import", Handle)
        .RequireAuthorization(Policies.Admin)
        .WithSummary("Import labelled examples (Admins): ?format=jsonl|csv, the file as the body; &name= names the import (default \"import\")")
        .ProducesProblem(400);   // any content type: a 415 before authorisation would say too much

    static async Task<Results<Ok<Response>, ProblemHttpResult>> Handle(string? format, string? name, HttpRequest request, ClaimsPrincipal user,
        NpgsqlDataSource db, LanguageDetection languages, IOptions<DatasetOptions> options, CancellationToken ct)
    {
        if (format is not ("jsonl" or "csv")) return Problem("format: jsonl or csv.");
        name = string.IsNullOrWhiteSpace(name) ? "import" : name.Trim();
        if (!ImportName().IsMatch(name)) return Problem("name: 1 to 64 letters, digits, '.', '_' or '-'.");
        var file = Path.Combine(Path.GetTempPath(), $"birbal-import-{Guid.NewGuid():N}.{format}");
        try
        {
            await using (var target = File.Create(file)) await request.Body.CopyToAsync(target, ct);
            IReadOnlyList<LabelledText> rows;
            try { rows = LabelledData.Read(file, Categories.Default); }
            catch (DataFileException e)
            {
                return TypedResults.Problem($"{e.Errors.Count} bad row(s); nothing was imported. " + string.Join("; ", e.Errors.Take(100)),
                    statusCode: 400, title: "Invalid import", extensions: new Dictionary<string, object?> { ["errors"] = e.Errors.Take(1000).ToList() });
            }
            if (rows.Count > options.Value.MaxImportRows)
                return Problem($"The file has {rows.Count} rows; an import through the API has at most {options.Value.MaxImportRows} (Ml:Datasets:MaxImportRows). "
                    + "Nothing was imported; `ml import` takes larger files.");
            var examples = Examples.FromFile(rows, name, languages.Detect, user.UserIdOrNull());
            await using var connection = await db.OpenConnectionAsync(ct);
            await using var tx = await connection.BeginTransactionAsync(ct);
            var (added, updated) = await Examples.UpsertAsync(connection, tx, examples, ct);
            await tx.CommitAsync(ct);
            return TypedResults.Ok(new Response(rows.Count, added, updated, $"import:{name}"));
        }
        catch (BadHttpRequestException e)
        {
            return TypedResults.Problem(e.Message, statusCode: e.StatusCode);
        }
        finally
        {
            File.Delete(file);
        }
    }

    static ProblemHttpResult Problem(string detail) => TypedResults.Problem(detail, statusCode: 400, title: "Invalid import");

    [GeneratedRegex(@"^[A-Za-z0-9._-]{1,64}$")]
    public static partial Regex ImportName();
}

/// <summary>POST /api/ml/datasets/snapshots takes a snapshot (Admins); GET lists them.</summary>
static class SnapshotsApi
{
    public sealed record Response(Guid Id, int Number, string Name, DateTime CreatedAt, string DataHash, long Size, int Examples, int Train, int Validation, int Test, bool Created);

    public static void Map(RouteGroupBuilder datasets)
    {
        datasets.MapPost("/snapshots", Take).RequireAuthorization(Policies.Admin)
            .WithSummary("Take a dataset snapshot (Admins): 201, or 200 with the latest one when nothing changed since")
            .ProducesProblem(400);
        datasets.MapGet("/snapshots", List).RequireAuthorization(Policies.Admin).WithSummary("Dataset snapshots, newest first (Admins)");
    }

    static Response From(Snapshot s, bool created) =>
        new(s.Id, s.Number, s.Name, s.CreatedAt, s.BlobHash, s.Size, s.Examples, s.Train, s.Validation, s.Test, created);

    static async Task<Results<Created<Response>, Ok<Response>, ProblemHttpResult>> Take(ClaimsPrincipal user, Snapshots snapshots, CancellationToken ct)
    {
        try
        {
            var taken = await snapshots.TakeAsync(user.UserIdOrNull(), ct);
            return taken.Created
                ? TypedResults.Created($"/api/ml/datasets/snapshots/{taken.Snapshot.Id}", From(taken.Snapshot, true))
                : TypedResults.Ok(From(taken.Snapshot, false));
        }
        catch (SnapshotException e) { return TypedResults.Problem(e.Message, statusCode: 400, title: "No snapshot taken"); }
    }

    static async Task<Ok<IReadOnlyList<Response>>> List(Snapshots snapshots, CancellationToken ct) =>
        TypedResults.Ok<IReadOnlyList<Response>>([.. (await snapshots.ListAsync(ct)).Select(s => From(s, false))]);
}
