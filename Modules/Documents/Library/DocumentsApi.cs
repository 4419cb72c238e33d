using System.Security.Claims;
using BirbalAI.Documents.Uploads;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace BirbalAI.Documents.Library;

/// <summary>The library over REST for bots and scripts; the pages use the same queries.</summary>
static class DocumentsApi
{
    public sealed record DocumentWithChunks(DocumentView Document, IReadOnlyList<ChunkView> Chunks);

    public static void Map(RouteGroupBuilder documents)
    {
        documents.MapGet("/", List).WithSummary("Documents you may see, newest first; filter by status, owner (a user id), language").ProducesProblem(400);
        documents.MapGet("/search", Search).WithSummary("Full-text search (each chunk in its language); snippets HTML-escaped with matches in <mark>").ProducesProblem(400);
        documents.MapGet("/{documentId:guid}", Get).WithSummary("A document and its chunks (held and rejected ones only for the owner, reviewers and Admins)").ProducesProblem(404);
    }

    static readonly string[] Statuses = ["processing", "approved", "partially-held", "held", "partially-rejected", "rejected", "failed"];

    static async Task<Results<Ok<IReadOnlyList<DocumentView>>, ProblemHttpResult>> List(string? status, Guid? owner, string? language, ClaimsPrincipal user,
        DocumentAccess access, IOptions<DocumentsOptions> options, CancellationToken ct)
    {
        if (status is not null && !Statuses.Contains(status)) return UploadDocument.Problem(400, $"status is one of {string.Join(", ", Statuses)}.");
        return TypedResults.Ok(await access.ListAsync(user, status, owner, string.IsNullOrWhiteSpace(language) ? null : language, options.Value.PageSize, ct));
    }

    static async Task<Results<Ok<IReadOnlyList<SearchHit>>, ProblemHttpResult>> Search(string? q, ClaimsPrincipal user, DocumentAccess access,
        IOptions<DocumentsOptions> options, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(q) || q.Length > 200) return UploadDocument.Problem(400, "q: 1 to 200 characters to search for.");
        return TypedResults.Ok(await access.SearchAsync(user, q, options.Value.PageSize, ct));
    }

    static async Task<Results<Ok<DocumentWithChunks>, ProblemHttpResult>> Get(Guid documentId, ClaimsPrincipal user, DocumentAccess access, CancellationToken ct) =>
        await access.GetAsync(user, documentId, ct) is { } found
            ? TypedResults.Ok(new DocumentWithChunks(found.Document, found.Chunks))
            : UploadDocument.Problem(404, "No such document.");
}
