using System.Globalization;
using System.Security.Claims;
using System.Text.Json;
using BirbalAI.Contracts.Identity;
using Dapper;
using Npgsql;

namespace BirbalAI.Ml.Policy;

/// <summary>A saved draft policy: thresholds that are not in force until published (<see cref="PublishedAs"/> then names the version).</summary>
sealed record PolicyDraft(Guid Id, string Name, IReadOnlyDictionary<string, Thresholds> Thresholds, string? Note, int BasedOn,
    Guid? CreatedBy, DateTime CreatedAt, DateTime UpdatedAt, int? PublishedAs)
{
    public bool Published => PublishedAs is not null;
}

/// <summary>
/// Draft policies (ml.policy_drafts): saved, listed, changed and deleted while drafts, previewed (an impact preview, see
/// <see cref="Rescoring.RescoringRuns"/>), and published, which saves the draft's thresholds as the next policy version through
/// <see cref="PolicyStore.SaveAsync"/> (validated, audited, in force on every replica) and marks the draft in the same transaction.
/// </summary>
sealed class PolicyDrafts(NpgsqlDataSource db, PolicyStore policies)
{
    public const int MaxNameLength = 100, MaxNoteLength = 500;

    public abstract record Result;
    public sealed record Done(PolicyDraft Draft) : Result;
    public sealed record Invalid(IReadOnlyList<string> Errors) : Result;
    public sealed record NotFound : Result;
    /// <summary>The draft was published already: it cannot change or be published again.</summary>
    public sealed record AlreadyPublished(int Version) : Result;
    public sealed record Conflict(int CurrentVersion) : Result;

    static IReadOnlyList<string> Check(string? name, IReadOnlyDictionary<string, Thresholds>? thresholds, string? note, IReadOnlyCollection<string> categories)
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(name)) errors.Add("name: required");
        else if (name.Trim().Length > MaxNameLength) errors.Add($"name: at most {MaxNameLength} characters");
        if (note?.Length > MaxNoteLength) errors.Add($"note: at most {MaxNoteLength} characters");
        errors.AddRange(ModerationPolicy.Validate(thresholds, categories));
        return errors;
    }

    public async Task<Result> CreateAsync(string? name, IReadOnlyDictionary<string, Thresholds>? thresholds, string? note, IReadOnlyCollection<string> categories,
        ClaimsPrincipal actor, CancellationToken ct)
    {
        if (Check(name, thresholds, note, categories) is { Count: > 0 } errors) return new Invalid(errors);
        var basedOn = (await policies.CurrentAsync(ct)).Version;
        await using var connection = await db.OpenConnectionAsync(ct);
        var row = await connection.QuerySingleAsync<Row>(new CommandDefinition($"""
            insert into ml.policy_drafts (id, name, thresholds, note, based_on, created_by) values (@Id, @Name, @Thresholds::jsonb, @Note, @BasedOn, @CreatedBy)
            returning {Columns}
            """, new { Id = Guid.CreateVersion7(), Name = name!.Trim(), Thresholds = Serialize(thresholds!), note, basedOn, CreatedBy = actor.UserIdOrNull() }, cancellationToken: ct));
        return new Done(row.ToDraft());
    }

    public async Task<Result> UpdateAsync(Guid id, string? name, IReadOnlyDictionary<string, Thresholds>? thresholds, string? note, IReadOnlyCollection<string> categories,
        CancellationToken ct)
    {
        if (Check(name, thresholds, note, categories) is { Count: > 0 } errors) return new Invalid(errors);
        await using var connection = await db.OpenConnectionAsync(ct);
        var row = await connection.QuerySingleOrDefaultAsync<Row>(new CommandDefinition($"""
            update ml.policy_drafts set name = @Name, thresholds = @Thresholds::jsonb, note = @Note, updated_at = now()
            where id = @Id and published_as is null
            returning {Columns}
            """, new { id, Name = name!.Trim(), Thresholds = Serialize(thresholds!), note }, cancellationToken: ct));
        return row is not null ? new Done(row.ToDraft()) : await MissingOrPublishedAsync(id, ct);
    }

    /// <summary>Deletes a draft (a published one stays, as the record of what became a version); an impact preview of it keeps its copy of the thresholds.</summary>
    public async Task<Result> DeleteAsync(Guid id, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var row = await connection.QuerySingleOrDefaultAsync<Row>(new CommandDefinition($"delete from ml.policy_drafts where id = @id and published_as is null returning {Columns}",
            new { id }, cancellationToken: ct));
        return row is not null ? new Done(row.ToDraft()) : await MissingOrPublishedAsync(id, ct);
    }

    /// <summary>
    /// Saves the draft's thresholds as the next policy version (the watched words in force stay), audited as a policy change with the
    /// draft named in its note; with <paramref name="expectedVersion"/>, only while that version is still in force.
    /// </summary>
    public async Task<Result> PublishAsync(Guid id, int? expectedVersion, IReadOnlyCollection<string> categories, ClaimsPrincipal actor, CancellationToken ct)
    {
        if (await FindAsync(id, ct) is not { } draft) return new NotFound();
        if (draft.PublishedAs is { } was) return new AlreadyPublished(was);
        var note = $"published from draft \"{draft.Name}\"" + (draft.Note is { Length: > 0 } n ? $": {n}" : "");
        if (note.Length > MaxNoteLength) note = note[..MaxNoteLength];
        PolicyStore.SaveResult saved;
        try
        {
            saved = await policies.SaveAsync(draft.Thresholds, categories, expectedVersion, note, actor, ct, async (connection, tx, version) =>
            {
                // Under the policy lock: of two admins publishing one draft at once, one publishes it; the other's save rolls back.
                if (await connection.ExecuteAsync(new CommandDefinition(
                        "update ml.policy_drafts set published_as = @version, updated_at = now() where id = @id and published_as is null",
                        new { id, version }, tx, cancellationToken: ct)) != 1)
                    throw new DraftPublishedMeanwhileException();
            });
        }
        catch (DraftPublishedMeanwhileException)
        {
            return await MissingOrPublishedAsync(id, ct);
        }
        return saved switch
        {
            PolicyStore.Saved => new Done((await FindAsync(id, ct))!),
            PolicyStore.Conflict c => new Conflict(c.CurrentVersion),
            PolicyStore.Invalid invalid => new Invalid(invalid.Errors),
            _ => throw new InvalidOperationException(),
        };
    }

    sealed class DraftPublishedMeanwhileException() : Exception("the draft was published meanwhile");

    public async Task<PolicyDraft?> FindAsync(Guid id, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return (await connection.QuerySingleOrDefaultAsync<Row>(new CommandDefinition($"select {Columns} from ml.policy_drafts where id = @id", new { id }, cancellationToken: ct)))?.ToDraft();
    }

    /// <summary>Drafts first (newest first), then the published ones.</summary>
    public async Task<IReadOnlyList<PolicyDraft>> ListAsync(int limit, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return [.. (await connection.QueryAsync<Row>(new CommandDefinition(
            $"select {Columns} from ml.policy_drafts order by published_as is not null, updated_at desc, id desc limit @limit", new { limit }, cancellationToken: ct))).Select(r => r.ToDraft())];
    }

    async Task<Result> MissingOrPublishedAsync(Guid id, CancellationToken ct) =>
        await FindAsync(id, ct) is { PublishedAs: { } version } ? new AlreadyPublished(version) : new NotFound();

    static string Serialize(IReadOnlyDictionary<string, Thresholds> thresholds) => JsonSerializer.Serialize(thresholds, PolicyStore.Json);

    const string Columns = "id, name, thresholds::text as thresholds, note, based_on, created_by, created_at, updated_at, published_as";

    sealed class Row
    {
        public Guid Id { get; init; }
        public string Name { get; init; } = "";
        public string Thresholds { get; init; } = "";
        public string? Note { get; init; }
        public int BasedOn { get; init; }
        public Guid? CreatedBy { get; init; }
        public DateTime CreatedAt { get; init; }
        public DateTime UpdatedAt { get; init; }
        public int? PublishedAs { get; init; }

        public PolicyDraft ToDraft() => new(Id, Name, JsonSerializer.Deserialize<Dictionary<string, Thresholds>>(Thresholds, PolicyStore.Json)!, Note, BasedOn,
            CreatedBy, CreatedAt, UpdatedAt, PublishedAs);
    }

    /// <summary>For messages: "draft "stricter" (based on v4)".</summary>
    public static string Describe(PolicyDraft d) => string.Create(CultureInfo.InvariantCulture, $"draft \"{d.Name}\" (based on v{d.BasedOn})");
}
