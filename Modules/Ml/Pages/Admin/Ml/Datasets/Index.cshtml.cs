using BirbalAI.Contracts.Identity;
using BirbalAI.Ml.Datasets;
using BirbalAI.Platform.Web;
using Dapper;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;
using Npgsql;

namespace BirbalAI.Ml.Pages.Admin.Ml.Datasets;

/// <summary>
/// The labelled examples (Annotators and Admins, who review every room's content): counts per category × language, class
/// balance, growth per day, the snapshots, and the latest examples. Admins take snapshots here.
/// </summary>
[Authorize(Policy = Policies.Annotator)]
sealed class IndexModel(NpgsqlDataSource db, Snapshots snapshots, IOptions<DatasetOptions> options) : PageModel
{
    public sealed record Cell(string Category, string Language, long Count);
    public sealed record Day(DateTime Date, long Added);
    public sealed class Recent   // settable: Dapper matches no array column to a constructor
    {
        public DateTime LabelledAt { get; init; }
        public string Source { get; init; } = "";
        public string Language { get; init; } = "";
        public string[] Categories { get; init; } = [];
        public string? Text { get; init; }
    }

    public IReadOnlyList<Cell> Cells { get; private set; } = [];
    public IReadOnlyList<string> Languages { get; private set; } = [];
    public IReadOnlyList<string> CategoryRows { get; private set; } = [];
    public long Total { get; private set; }
    public long Removed { get; private set; }
    public IReadOnlyList<Day> Growth { get; private set; } = [];
    public IReadOnlyList<Recent> RecentExamples { get; private set; } = [];
    public IReadOnlyList<Snapshot> Snapshots { get; private set; } = [];
    public string? Message { get; private set; }
    public bool IsAdmin => User.IsInRole(Roles.Admin);

    public long Count(string category, string language) => Cells.FirstOrDefault(c => c.Category == category && c.Language == language)?.Count ?? 0;

    public Task OnGetAsync(CancellationToken ct) => LoadAsync(ct);

    public async Task OnPostSnapshotAsync(CancellationToken ct)
    {
        if (!IsAdmin) { await LoadAsync(ct); this.Refuse("Only Admins take snapshots.", 403); return; }
        try
        {
            var taken = await snapshots.TakeAsync(User.UserIdOrNull(), ct);
            Message = taken.Created ? $"Took snapshot {taken.Snapshot.Name}: {taken.Snapshot.Examples} examples." : $"Nothing changed since {taken.Snapshot.Name}; no new snapshot.";
        }
        catch (SnapshotException e) { this.Refuse(e.Message); }
        await LoadAsync(ct);
    }

    async Task LoadAsync(CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        // A benign example counts under "none"; one with several categories under each.
        Cells = (await connection.QueryAsync<Cell>(new CommandDefinition(CellsSql, cancellationToken: ct))).AsList();
        Total = await connection.ExecuteScalarAsync<long>(new CommandDefinition("select count(*) from ml.examples where removed_at is null", cancellationToken: ct));
        Removed = await connection.ExecuteScalarAsync<long>(new CommandDefinition("select count(*) from ml.examples where removed_at is not null", cancellationToken: ct));
        Growth = (await connection.QueryAsync<Day>(new CommandDefinition(GrowthSql, cancellationToken: ct))).AsList();
        RecentExamples = (await connection.QueryAsync<Recent>(new CommandDefinition(RecentSql, new { Limit = options.Value.RecentExamples }, cancellationToken: ct))).AsList();
        Languages = [.. Cells.Select(c => c.Language).Distinct().Order(StringComparer.Ordinal)];
        CategoryRows = [.. Categories.Default.Where(c => Cells.Any(x => x.Category == c)), .. Cells.Select(c => c.Category).Where(c => c != "none" && !Categories.Default.Contains(c)).Distinct(), .. Cells.Any(c => c.Category == "none") ? ["none"] : Array.Empty<string>()];
        Snapshots = await snapshots.ListAsync(ct);
    }

    const string CellsSql = """
        select coalesce(c, 'none') as category, e.language, count(*) as count
        from ml.examples e left join lateral unnest(e.categories) as c on true
        where e.removed_at is null
        group by 1, 2 order by 1, 2
        """;

    const string GrowthSql = """
        select d::timestamp as date, count(e.id) as added
        from generate_series(current_date - 29, current_date, interval '1 day') as d
        left join ml.examples e on e.created_at >= d and e.created_at < d + interval '1 day'
        group by d order by d
        """;

    const string RecentSql = """
        select labelled_at, source, language, categories, text from ml.examples where removed_at is null order by created_at desc, id desc limit @Limit
        """;
}
