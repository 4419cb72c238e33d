using System.Security.Claims;
using BirbalAI.Ml.Policy;
using BirbalAI.Ml.Serving;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;

namespace BirbalAI.Ml.WatchedWords;

/// <summary>
/// /api/ml/watched-words (Admins): list, add, edit, delete, CSV export and import. Every change saves a new policy
/// version (same thresholds), audited, in force on every replica at once; refusals are problem details.
/// </summary>
static class WatchedWordsApi
{
    /// <summary>One entry; <see cref="ExpectedVersion"/>, when given, must still be in force (else 409).</summary>
    public sealed record EntryRequest(string? Pattern, string? Kind, string? Action, string? Replacement, string? Category, string? Language,
        bool? WholeWord, string? Note, int? ExpectedVersion)
    {
        public WatchedWord ToEntry(Guid id) => new(id, Pattern ?? "", Kind ?? WatchedWord.Kinds.Word, Action ?? "",
            string.IsNullOrEmpty(Replacement) ? null : Replacement, string.IsNullOrEmpty(Category) ? null : Category,
            string.IsNullOrEmpty(Language) ? null : Language, WholeWord ?? true);
    }

    public sealed record ListResponse(int PolicyVersion, IReadOnlyList<WatchedWord> Entries);
    public sealed record SavedResponse(int PolicyVersion, WatchedWord? Entry);
    public sealed record ImportResponse(int PolicyVersion, int Count);

    public static void Map(RouteGroupBuilder words)
    {
        words.MapGet("/", List).WithSummary("The watched words in force, with the policy version they belong to");
        words.MapPost("/", Add).WithSummary("Add a watched word, phrase or regular expression (a new policy version)")
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status409Conflict);
        words.MapPut("/{id:guid}", Edit).WithSummary("Change a watched word (a new policy version)")
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        words.MapDelete("/{id:guid}", Delete).WithSummary("Remove a watched word (a new policy version)")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        words.MapGet("/export", Export).WithSummary("The watched words as CSV").Produces<string>(contentType: "text/csv");
        words.MapPost("/import", Import).WithSummary("Replace the watched words with a CSV file's (all rows valid, or nothing changes)")
            .WithDescription("The body is the CSV file itself (text/csv), as the export gives it.").ProducesValidationProblem().ProducesProblem(StatusCodes.Status409Conflict);
    }

    static async Task<Ok<ListResponse>> List(PolicyStore store, CancellationToken ct)
    {
        var policy = await store.CurrentAsync(ct);
        return TypedResults.Ok(new ListResponse(policy.Version, policy.Words.Entries));
    }

    static async Task<Results<Created<SavedResponse>, ValidationProblem, ProblemHttpResult>> Add(EntryRequest request, ClaimsPrincipal user,
        PolicyStore store, ModelCatalog catalog, CancellationToken ct)
    {
        var entry = request.ToEntry(Guid.CreateVersion7());
        return await SaveAsync(list => [.. list, entry], $"added {entry.Kind} '{entry.Pattern}'", request.Note, request.ExpectedVersion, user, store, catalog, ct) switch
        {
            PolicyStore.Saved saved => TypedResults.Created($"/api/ml/watched-words/{entry.Id}", new SavedResponse(saved.Policy.Version, entry)),
            PolicyStore.Invalid invalid => Invalid(invalid),
            var other => Conflict(other),
        };
    }

    static async Task<Results<Ok<SavedResponse>, NotFound<ProblemDetails>, ValidationProblem, ProblemHttpResult>> Edit(Guid id, EntryRequest request,
        ClaimsPrincipal user, PolicyStore store, ModelCatalog catalog, CancellationToken ct)
    {
        var entry = request.ToEntry(id);
        return await SaveAsync(list => Replace(list, id, entry), $"changed {entry.Kind} '{entry.Pattern}'", request.Note, request.ExpectedVersion, user, store, catalog, ct) switch
        {
            PolicyStore.Saved saved => TypedResults.Ok(new SavedResponse(saved.Policy.Version, entry)),
            PolicyStore.Missing => NoSuchEntry(id),
            PolicyStore.Invalid invalid => Invalid(invalid),
            var other => Conflict(other),
        };
    }

    static async Task<Results<Ok<SavedResponse>, NotFound<ProblemDetails>, ValidationProblem, ProblemHttpResult>> Delete(Guid id, int? expectedVersion,
        ClaimsPrincipal user, PolicyStore store, ModelCatalog catalog, CancellationToken ct)
    {
        var known = (await store.CurrentAsync(ct)).Words.Entries.FirstOrDefault(e => e.Id == id);
        return await SaveAsync(list => Replace(list, id, null), $"removed {known?.Kind ?? "entry"} '{known?.Pattern ?? id.ToString()}'", null, expectedVersion, user, store, catalog, ct) switch
        {
            PolicyStore.Saved saved => TypedResults.Ok(new SavedResponse(saved.Policy.Version, null)),
            PolicyStore.Missing => NoSuchEntry(id),
            PolicyStore.Invalid invalid => Invalid(invalid),
            var other => Conflict(other),
        };
    }

    /// <summary><paramref name="list"/> with entry <paramref name="id"/> replaced (removed when <paramref name="entry"/> is null); null when it is not there.</summary>
    public static IReadOnlyList<WatchedWord>? Replace(IReadOnlyList<WatchedWord> list, Guid id, WatchedWord? entry) =>
        list.Any(e => e.Id == id) ? [.. list.Where(e => e.Id != id || entry is not null).Select(e => e.Id == id ? entry! : e)] : null;

    static async Task<IResult> Export(PolicyStore store, CancellationToken ct) =>
        TypedResults.Text(WatchedWordCsv.Write((await store.CurrentAsync(ct)).Words.Entries), "text/csv; charset=utf-8");

    static async Task<Results<Ok<ImportResponse>, ValidationProblem, ProblemHttpResult>> Import(HttpRequest http, int? expectedVersion, ClaimsPrincipal user,
        PolicyStore store, ModelCatalog catalog, CancellationToken ct)
    {
        using var reader = new StreamReader(http.Body);
        var csv = await reader.ReadToEndAsync(ct);
        var (entries, errors) = WatchedWordCsv.Read(csv);
        if (errors.Count > 0) return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["file"] = [.. errors] }, title: "Invalid watched-words file");
        var rows = entries.Select(e => e.Row).ToList();
        return await SaveAsync(_ => [.. entries.Select(e => e.Entry)], $"imported {entries.Count} entries", null, expectedVersion, user, store, catalog, ct,
            (_, i) => $"row {rows[i]}") switch
        {
            PolicyStore.Saved saved => TypedResults.Ok(new ImportResponse(saved.Policy.Version, entries.Count)),
            PolicyStore.Invalid invalid => Invalid(invalid),
            var other => Conflict(other),
        };
    }

    /// <summary>Saves what <paramref name="edit"/> makes of the list in force; the note says what changed unless the admin wrote one.</summary>
    public static Task<PolicyStore.SaveResult> SaveAsync(Func<IReadOnlyList<WatchedWord>, IReadOnlyList<WatchedWord>?> edit, string what, string? note, int? expectedVersion,
        ClaimsPrincipal user, PolicyStore store, ModelCatalog catalog, CancellationToken ct, Func<WatchedWord, int, string>? label = null) =>
        store.SaveWordsAsync(edit, PolicyCategories.Known(catalog), expectedVersion, string.IsNullOrWhiteSpace(note) ? $"watched words: {what}" : note.Trim(), user, ct, label);

    static NotFound<ProblemDetails> NoSuchEntry(Guid id) => TypedResults.NotFound(new ProblemDetails
    {
        Title = "No such watched word", Detail = $"No watched word {id} is in force.", Status = StatusCodes.Status404NotFound,
    });

    static ValidationProblem Invalid(PolicyStore.Invalid invalid) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["entries"] = [.. invalid.Errors] }, title: "Invalid watched words");

    static ProblemHttpResult Conflict(PolicyStore.SaveResult result) => TypedResults.Problem(
        $"The policy changed meanwhile: version {((PolicyStore.Conflict)result).CurrentVersion} is in force. Reload it and apply your change again.",
        statusCode: 409, title: "Policy changed meanwhile");
}
