using System.Data.Common;
using System.Globalization;
using System.Security.Claims;
using System.Text.Json;
using BirbalAI.Contracts.Identity;
using BirbalAI.Contracts.Ml;
using BirbalAI.Ml.WatchedWords;
using BirbalAI.Platform.Messaging;
using Dapper;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Npgsql;

namespace BirbalAI.Ml.Policy;

/// <summary>From <see cref="Review"/> up a score holds content for a person; from <see cref="Reject"/> up it is refused.</summary>
sealed record Thresholds(float Review, float Reject);

/// <summary>A version of the moderation policy: thresholds per category.</summary>
sealed record ModerationPolicy(int Version, IReadOnlyDictionary<string, Thresholds> Thresholds, string? Note, DateTime CreatedAt, Guid? CreatedBy)
{
    /// <summary>The watched words of this version, compiled; applied before the model on every path.</summary>
    public WatchedWordMatcher Words { get; init; } = WatchedWordMatcher.Empty;

    /// <summary>For a category a model has and the policy does not name yet: held from 0.5, never rejected without a person.</summary>
    public static readonly Thresholds Unlisted = new(0.5f, 1f);

    public Thresholds For(string category) => Thresholds.GetValueOrDefault(category) ?? Unlisted;

    /// <summary>A threshold of 1 turns its action off for the category (a model's score can round up to exactly 1).</summary>
    public static ModerationAction Decide(float score, Thresholds thresholds) =>
        thresholds.Reject < 1 && score >= thresholds.Reject ? ModerationAction.Reject
        : thresholds.Review < 1 && score >= thresholds.Review ? ModerationAction.Review
        : ModerationAction.Approve;

    /// <summary>What is wrong with <paramref name="thresholds"/> as a policy over <paramref name="categories"/>; empty when nothing.</summary>
    public static IReadOnlyList<string> Validate(IReadOnlyDictionary<string, Thresholds>? thresholds, IReadOnlyCollection<string> categories)
    {
        if (thresholds is null) return ["thresholds: required, one entry per category"];
        var errors = new List<string>();
        foreach (var (category, t) in thresholds)
        {
            if (!categories.Contains(category)) errors.Add($"{category}: not a category (known: {string.Join(", ", categories)})");
            else if (t is null) errors.Add($"{category}: give review and reject");
            else if (!(t.Review >= 0 && t.Review <= t.Reject && t.Reject <= 1))
                errors.Add(string.Create(CultureInfo.InvariantCulture, $"{category}: need 0 ≤ review ≤ reject ≤ 1, not review {t.Review} and reject {t.Reject}"));
        }
        foreach (var missing in categories.Where(c => !thresholds.ContainsKey(c))) errors.Add($"{missing}: missing");
        return errors;
    }
}

/// <summary>
/// The policy in force (cached; every replica re-reads it on a broadcast or a reconnect) and its history.
/// Saving makes a new version, audited in the same transaction. Watched words are part of it: changing them
/// saves a new version with the same thresholds, so a verdict's policy version names the exact words used.
/// </summary>
sealed class PolicyStore(NpgsqlDataSource db, Broadcasts broadcasts, IAuditLog audit, IOptions<WatchedWordLimits> wordLimits)
{
    public const string Channel = "ml.policy";

    volatile ModerationPolicy? current;

    public abstract record SaveResult;
    public sealed record Saved(ModerationPolicy Policy) : SaveResult;
    public sealed record Invalid(IReadOnlyList<string> Errors) : SaveResult;
    public sealed record Conflict(int CurrentVersion) : SaveResult;
    /// <summary>The watched word a change names is no longer in force.</summary>
    public sealed record Missing : SaveResult;

    public async Task<ModerationPolicy> CurrentAsync(CancellationToken ct) => current ?? await ReloadAsync(ct);

    public async Task<ModerationPolicy> ReloadAsync(CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        // One snapshot: the latest version and the words in force at it.
        await using var tx = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, ct);
        var row = await connection.QuerySingleAsync<Row>(new CommandDefinition($"{SelectSql} order by version desc limit 1", transaction: tx, cancellationToken: ct));
        if (current is { } same && same.Version == row.Version) return same;   // nothing new: keep the compiled words
        var words = (await connection.QueryAsync<WordRow>(new CommandDefinition(WordsInForceSql, transaction: tx, cancellationToken: ct))).Select(w => w.ToEntry()).ToList();
        await tx.CommitAsync(ct);
        var policy = row.ToPolicy() with { Words = new WatchedWordMatcher(words, TimeSpan.FromMilliseconds(wordLimits.Value.RegexTimeoutMs)) };
        // Never step back: a slow reload must not undo a newer version another one already installed.
        if (current is not { } installed || installed.Version <= policy.Version) current = policy;
        return current;
    }

    /// <summary>
    /// Saves the watched-word list <paramref name="edit"/> makes of the one in force (read under the policy lock, so
    /// two admins' changes never undo each other) as the next version, same thresholds: entries whose id is new are
    /// added, changed ones replaced, missing ones removed. <paramref name="edit"/> answers null when what it changes
    /// is gone (<see cref="Missing"/>). Validated as a whole (limits, every entry, labelled by <paramref name="label"/>);
    /// audited with what changed; in force on every replica at once.
    /// </summary>
    public async Task<SaveResult> SaveWordsAsync(Func<IReadOnlyList<WatchedWord>, IReadOnlyList<WatchedWord>?> edit, IReadOnlyCollection<string> categories,
        int? expectedVersion, string? note, ClaimsPrincipal actor, CancellationToken ct, Func<WatchedWord, int, string>? label = null)
    {
        if (note?.Length > 500) return new Invalid(["note: at most 500 characters"]);
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition("select pg_advisory_xact_lock(hashtext('ml.policies'))", transaction: tx, cancellationToken: ct));
        var latest = await connection.ExecuteScalarAsync<int>(new CommandDefinition("select max(version) from ml.policies", transaction: tx, cancellationToken: ct));
        if (expectedVersion is { } expected && expected != latest) return new Conflict(latest);
        var inForce = (await connection.QueryAsync<WordRow>(new CommandDefinition(WordsInForceSql, transaction: tx, cancellationToken: ct))).Select(w => w.ToEntry()).ToList();
        if (edit(inForce) is not { } entries) return new Missing();
        label ??= (e, i) => $"entry {i + 1} ('{e.Pattern}')";
        var errors = WatchedWord.ValidateList(entries, wordLimits.Value, categories, i => label(entries[i], i));
        if (errors.Count > 0) return new Invalid(errors);
        var before = inForce.ToDictionary(w => w.Id);
        var after = entries.ToDictionary(e => e.Id);
        var removed = before.Values.Where(b => !after.TryGetValue(b.Id, out var a) || a != b).ToList();
        var added = entries.Where(a => !before.TryGetValue(a.Id, out var b) || a != b).ToList();
        var version = latest + 1;
        var row = await connection.QuerySingleAsync<Row>(new CommandDefinition(CopySql, new { Version = version, Latest = latest, note, CreatedBy = actor.UserIdOrNull() }, tx, cancellationToken: ct));
        await connection.ExecuteAsync(new CommandDefinition("update ml.watched_words set removed_in = @Version where removed_in is null and id = any(@Ids)",
            new { Version = version, Ids = removed.Select(r => r.Id).ToArray() }, tx, cancellationToken: ct));
        await connection.ExecuteAsync(new CommandDefinition(InsertWordSql, added.Select(a => new
        {
            a.Id, AddedIn = version, a.Pattern, a.Kind, a.Action, a.Replacement, a.Category, a.Language, a.WholeWord, CreatedBy = actor.UserIdOrNull(),
        }), tx, cancellationToken: ct));
        var changed = added.Where(a => before.ContainsKey(a.Id)).ToList();
        string Describe(IEnumerable<WatchedWord> list) => string.Join("; ", list.Take(50).Select(w => $"{w.Kind} '{w.Pattern}' → {w.Action}"));
        await audit.RecordAsync(actor, "ml.watched-words-changed", $"policy v{version}", new Dictionary<string, string?>
        {
            ["previous"] = $"v{latest}",
            ["note"] = note,
            ["added"] = Describe(added.Where(a => !before.ContainsKey(a.Id))),
            ["changed"] = Describe(changed),
            ["removed"] = Describe(removed.Where(r => !after.ContainsKey(r.Id))),
            ["count"] = entries.Count.ToString(CultureInfo.InvariantCulture),
        }, tx, ct);
        await tx.CommitAsync(ct);
        var policy = row.ToPolicy() with { Words = new WatchedWordMatcher(entries, TimeSpan.FromMilliseconds(wordLimits.Value.RegexTimeoutMs)) };
        if (current is null || current.Version < policy.Version) current = policy;
        await broadcasts.PublishAsync(Channel, policy.Version.ToString(CultureInfo.InvariantCulture));
        return new Saved(policy);
    }

    public async Task<IReadOnlyList<ModerationPolicy>> HistoryAsync(int limit, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return [.. (await connection.QueryAsync<Row>(new CommandDefinition($"{SelectSql} order by version desc limit @Limit",
            new { limit }, cancellationToken: ct))).Select(r => r.ToPolicy())];
    }

    /// <summary>
    /// Saves <paramref name="thresholds"/> as the next version. With <paramref name="expectedVersion"/>, only while
    /// that version is still in force: two admins editing at once do not silently overwrite each other.
    /// </summary>
    public async Task<SaveResult> SaveAsync(IReadOnlyDictionary<string, Thresholds>? thresholds, IReadOnlyCollection<string> categories,
        int? expectedVersion, string? note, ClaimsPrincipal actor, CancellationToken ct,
        Func<NpgsqlConnection, NpgsqlTransaction, int, Task>? alsoInTransaction = null)
    {
        var errors = ModerationPolicy.Validate(thresholds, categories);
        if (note?.Length > 500) errors = [.. errors, "note: at most 500 characters"];
        if (errors.Count > 0) return new Invalid(errors);
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition("select pg_advisory_xact_lock(hashtext('ml.policies'))", transaction: tx, cancellationToken: ct));
        var latest = await connection.ExecuteScalarAsync<int>(new CommandDefinition("select max(version) from ml.policies", transaction: tx, cancellationToken: ct));
        if (expectedVersion is { } expected && expected != latest) return new Conflict(latest);
        var row = await connection.QuerySingleAsync<Row>(new CommandDefinition(InsertSql, new
        {
            Version = latest + 1, Thresholds = JsonSerializer.Serialize(thresholds, Json), note, CreatedBy = actor.UserIdOrNull(),
        }, tx, cancellationToken: ct));
        await audit.RecordAsync(actor, "ml.policy-changed", $"policy v{row.Version}", new Dictionary<string, string?>
        {
            ["previous"] = $"v{latest}",
            ["note"] = note,
            ["thresholds"] = row.Thresholds,
        }, tx, ct);
        if (alsoInTransaction is not null) await alsoInTransaction(connection, tx, row.Version);
        await tx.CommitAsync(ct);
        // The words did not change: the compiled matcher goes on when this replica had the version just replaced,
        // else it reads them (another replica may have changed them since this one last heard).
        var words = current is { } had && had.Version == latest ? had.Words : (await ReloadAsync(ct)).Words;
        var policy = row.ToPolicy() with { Words = words };
        if (current is null || current.Version < policy.Version) current = policy;
        await broadcasts.PublishAsync(Channel, policy.Version.ToString(CultureInfo.InvariantCulture));
        return new Saved(policy);
    }

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    sealed class Row
    {
        public int Version { get; init; }
        public string Thresholds { get; init; } = "";
        public string? Note { get; init; }
        public DateTime CreatedAt { get; init; }
        public Guid? CreatedBy { get; init; }

        public ModerationPolicy ToPolicy() => new(Version,
            JsonSerializer.Deserialize<Dictionary<string, Thresholds>>(Thresholds, Json)!, Note, CreatedAt, CreatedBy);
    }

    sealed class WordRow
    {
        public Guid Id { get; init; }
        public string Pattern { get; init; } = "";
        public string Kind { get; init; } = "";
        public string Action { get; init; } = "";
        public string? Replacement { get; init; }
        public string? Category { get; init; }
        public string? Language { get; init; }
        public bool WholeWord { get; init; }

        public WatchedWord ToEntry() => new(Id, Pattern, Kind, Action, Replacement, Category, Language, WholeWord);
    }

    const string WordsInForceSql = """
        select id, pattern, kind, action, replacement, category, language, whole_word from ml.watched_words
        where removed_in is null order by created_at, id
        """;

    const string InsertWordSql = """
        insert into ml.watched_words (id, added_in, pattern, kind, action, replacement, category, language, whole_word, created_by)
        values (@Id, @AddedIn, @Pattern, @Kind, @Action, @Replacement, @Category, @Language, @WholeWord, @CreatedBy)
        """;

    const string CopySql = """
        insert into ml.policies (version, thresholds, note, created_by)
        select @Version, thresholds, @Note, @CreatedBy from ml.policies where version = @Latest
        returning version, thresholds::text as thresholds, note, created_at, created_by
        """;

    const string SelectSql = "select version, thresholds::text as thresholds, note, created_at, created_by from ml.policies";

    const string InsertSql = """
        insert into ml.policies (version, thresholds, note, created_by) values (@Version, @Thresholds::jsonb, @Note, @CreatedBy)
        returning version, thresholds::text as thresholds, note, created_at, created_by
        """;
}

/// <summary>Loads the policy at start-up and follows changes on every replica.</summary>
sealed class PolicyFollower(PolicyStore store, Broadcasts broadcasts) : IHostedService
{
    public Task StartAsync(CancellationToken ct) =>
        broadcasts.SubscribeAsync(PolicyStore.Channel, _ => store.ReloadAsync(CancellationToken.None), store.ReloadAsync, ct);

    public Task StopAsync(CancellationToken ct) => Task.CompletedTask;
}
