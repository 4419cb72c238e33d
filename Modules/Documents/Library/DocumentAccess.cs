using System.Net;
using System.Security.Claims;
using System.Text.Json;
using BirbalAI.Contracts.Chat;
using BirbalAI.Contracts.Identity;
using Dapper;
using Npgsql;

namespace BirbalAI.Documents.Library;

/// <summary>A document as its reader may see it.</summary>
sealed record DocumentView(
    Guid Id, Guid OwnerId, string OwnerName, string Title, string FileName, string Type, long Size, int? Pages, string? Note,
    string Status, string? FailureReason, string? Language, string Visibility, Guid? RoomId, DateTime CreatedAt, DateTime? ProcessedAt);

/// <summary>
/// A chunk as its reader may see it. <see cref="Text"/> and <see cref="Flagged"/> are null for a held, rejected or removed chunk
/// shown to someone other than its owner, a reviewer or an Admin: they see only that a part is withheld.
/// </summary>
sealed record ChunkView(Guid Id, int Ordinal, int Start, int Length, string Status, string? Text, IReadOnlyList<string>? Flagged, string Language);

/// <summary>A search hit: the chunk's document and a snippet, HTML-escaped, with the matches in &lt;mark&gt;.</summary>
sealed record SearchHit(Guid DocumentId, string Title, Guid ChunkId, int Ordinal, string Snippet, string Language);

/// <summary>
/// Who sees what. A document: its owner; everyone, when shared with all members; the members of the chat room it is shared
/// with (membership through <see cref="IChatMembership"/>); and reviewers (Annotators) and Admins, who review every held chunk.
/// Its approved chunks: whoever sees it. Its held, rejected and removed chunks: only its owner, reviewers and Admins —
/// and search never shows them to anyone but their owner.
/// </summary>
sealed class DocumentAccess(NpgsqlDataSource db, IChatMembership chat)
{
    public const string Private = "private", Room = "room", All = "all";

    public static bool IsReviewer(ClaimsPrincipal user) => user.IsInRole(Roles.Annotator) || user.IsInRole(Roles.Admin);

    async Task<Guid[]> RoomsAsync(ClaimsPrincipal user, CancellationToken ct) =>
        [.. (await chat.RoomsOfAsync(user.UserId(), ct)).Select(r => r.RoomId)];

    public async Task<IReadOnlyList<DocumentView>> ListAsync(ClaimsPrincipal user, string? status, Guid? owner, string? language, int limit, CancellationToken ct)
    {
        var rooms = await RoomsAsync(user, ct);
        await using var connection = await db.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<DocumentView>(new CommandDefinition(ListSql,
            new { Reader = user.UserId(), Reviewer = IsReviewer(user), rooms, status, owner, language, limit }, cancellationToken: ct))).AsList();
    }

    public async Task<(DocumentView Document, IReadOnlyList<ChunkView> Chunks)?> GetAsync(ClaimsPrincipal user, Guid id, CancellationToken ct)
    {
        var rooms = await RoomsAsync(user, ct);
        await using var connection = await db.OpenConnectionAsync(ct);
        var document = await connection.QuerySingleOrDefaultAsync<DocumentView?>(new CommandDefinition(GetSql,
            new { id, Reader = user.UserId(), Reviewer = IsReviewer(user), rooms }, cancellationToken: ct));
        if (document is null) return null;
        var seesWithheld = document.OwnerId == user.UserId() || IsReviewer(user);
        var chunks = (await connection.QueryAsync<ChunkRow>(new CommandDefinition(ChunksSql, new { id }, cancellationToken: ct)))
            .Select(c => c.Status == "approved" || seesWithheld
                ? new ChunkView(c.Id, c.Ordinal, c.StartOffset, c.Length, c.Status, c.Text, c.Flagged, c.Language)
                : new ChunkView(c.Id, c.Ordinal, c.StartOffset, c.Length, "withheld", null, null, c.Language))
            .ToList();
        return (document, chunks);
    }

    /// <summary>
    /// Full-text search over the chunks the reader may find: approved chunks of documents they see, and every chunk of their own.
    /// Each chunk is searched in its language's text-search configuration; the snippet comes from ts_headline, escaped here.
    /// </summary>
    public async Task<IReadOnlyList<SearchHit>> SearchAsync(ClaimsPrincipal user, string query, int limit, CancellationToken ct)
    {
        var rooms = await RoomsAsync(user, ct);
        await using var connection = await db.OpenConnectionAsync(ct);
        var rows = await connection.QueryAsync<(Guid DocumentId, string Title, Guid ChunkId, int Ordinal, string Snippet, string Language)>(new CommandDefinition(SearchSql,
            new { Reader = user.UserId(), Reviewer = IsReviewer(user), rooms, query, limit }, cancellationToken: ct));
        return [.. rows.Select(r => new SearchHit(r.DocumentId, r.Title, r.ChunkId, r.Ordinal, Highlight(r.Snippet), r.Language))];
    }

    // ts_headline marks matches with control characters that cannot be in extracted text; the rest is escaped, then marked.
    static string Highlight(string snippet) => WebUtility.HtmlEncode(snippet).Replace("\u0002", "<mark>").Replace("\u0003", "</mark>");

    sealed class ChunkRow
    {
        public Guid Id { get; init; }
        public int Ordinal { get; init; }
        public int StartOffset { get; init; }
        public int Length { get; init; }
        public string Status { get; init; } = "";
        public string Text { get; init; } = "";
        public string[] Flagged { get; init; } = [];
        public string Language { get; init; } = "";
    }

    const string Columns = """
        d.id, d.owner_id, d.owner_name, d.title, d.file_name, d.type, d.size, d.pages, d.note, d.status, d.failure_reason, d.language,
        d.visibility, d.room_id, d.created_at, d.processed_at
        """;

    // Security: the one rule for who sees a document, used by every query here.
    const string VisibleSql = "(d.owner_id = @Reader or d.visibility = 'all' or (d.visibility = 'room' and d.room_id = any(@Rooms)) or @Reviewer)";

    const string ListSql = $"""
        select {Columns} from documents.documents d
        where {VisibleSql}
          and (@Status::text is null or d.status = @Status) and (@Owner::uuid is null or d.owner_id = @Owner) and (@Language::text is null or d.language = @Language)
        order by d.id desc limit @Limit
        """;

    const string GetSql = $"select {Columns} from documents.documents d where d.id = @Id and {VisibleSql}";

    const string ChunksSql = """
        select id, ordinal, start_offset, length, status, text, flagged, language from documents.chunks where document_id = @Id order by ordinal
        """;

    // Security: others' chunks only when approved — even for reviewers and Admins, a held chunk is found only by its owner.
    const string SearchSql = $"""
        select d.id as document_id, d.title, c.id as chunk_id, c.ordinal,
               ts_headline(c.search_config, c.text, websearch_to_tsquery(c.search_config, @Query),
                           'StartSel=' || chr(2) || ', StopSel=' || chr(3) || ', MaxFragments=2, MaxWords=30, MinWords=8') as snippet,
               c.language
        from documents.chunks c join documents.documents d on d.id = c.document_id
        where c.search @@ websearch_to_tsquery(c.search_config, @Query)
          and (d.owner_id = @Reader or (c.status = 'approved' and {VisibleSql}))
        order by ts_rank(c.search, websearch_to_tsquery(c.search_config, @Query)) desc, c.id
        limit @Limit
        """;
}
