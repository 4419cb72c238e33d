using System.Security.Cryptography;
using System.Text;
using BirbalAI.Contracts.Annotation;
using BirbalAI.Contracts.Chat;
using BirbalAI.Ml.Data;
using BirbalAI.Platform.Messaging;
using Dapper;
using Npgsql;

namespace BirbalAI.Ml.Datasets;

/// <summary>One labelled example to store: where its content comes from (source + content id: the idempotency key), its text and label.</summary>
sealed record NewExample(string Source, string ContentId, string Text, string Language, IReadOnlyList<string> Categories,
    string Origin, DateTimeOffset LabelledAt, Guid? LabelledBy);

/// <summary>
/// The labelled examples (ml.examples): written from accepted labels and imports, one row per (source, content id), a later
/// label replacing an earlier one; content its owner removed keeps its row with the text erased and is never written again.
/// </summary>
static class Examples
{
    public const string FromLabel = "label", FromImport = "import";

    /// <summary>Inserts or updates the examples in batches; returns how many rows were new.</summary>
    public static async Task<(int Added, int Updated)> UpsertAsync(NpgsqlConnection connection, NpgsqlTransaction? tx, IReadOnlyList<NewExample> rows, CancellationToken ct)
    {
        int added = 0, updated = 0;
        foreach (var batch in rows.Chunk(1000))
        {
            var results = await connection.QueryAsync<bool>(new CommandDefinition(UpsertSql, new
            {
                Ids = batch.Select(_ => Guid.CreateVersion7()).ToArray(),
                Sources = batch.Select(r => r.Source).ToArray(),
                ContentIds = batch.Select(r => r.ContentId).ToArray(),
                Texts = batch.Select(r => r.Text).ToArray(),
                Languages = batch.Select(r => r.Language).ToArray(),
                Categories = batch.Select(r => string.Join(',', r.Categories.Distinct())).ToArray(),
                Origins = batch.Select(r => r.Origin).ToArray(),
                LabelledAts = batch.Select(r => r.LabelledAt.UtcDateTime).ToArray(),
                LabelledBys = batch.Select(r => r.LabelledBy).ToArray(),
            }, tx, cancellationToken: ct));
            foreach (var inserted in results) { if (inserted) added++; else updated++; }
        }
        return (added, updated);
    }

    /// <summary>The owner removed the content: its text is erased and it is left out of every later snapshot (a tombstone when it has no example yet).</summary>
    public static Task RemoveAsync(NpgsqlConnection connection, NpgsqlTransaction tx, string source, string contentId, DateTimeOffset at, CancellationToken ct) =>
        connection.ExecuteAsync(new CommandDefinition(RemoveSql, new { Id = Guid.CreateVersion7(), source, contentId, At = at.UtcDateTime }, tx, cancellationToken: ct));

    /// <summary>An imported row's content id: a hash of its text, so importing a file twice stores each text once.</summary>
    public static string ImportedContentId(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..32];

    /// <summary>Rows of a JSONL or CSV file as examples of <paramref name="source"/> ("import:" + the name).</summary>
    public static IReadOnlyList<NewExample> FromFile(IReadOnlyList<LabelledText> rows, string name, Func<string, string> detectLanguage, Guid? by)
    {
        var now = DateTimeOffset.UtcNow;
        return [.. rows.AsParallel().AsOrdered().Select(r => new NewExample($"import:{name}", ImportedContentId(r.Text), r.Text,
            string.IsNullOrWhiteSpace(r.Language) ? detectLanguage(r.Text) : r.Language.Trim(), r.Labels, FromImport, now, by))];
    }

    // xmax = 0 only for a row this statement inserted. An update never overwrites a newer label or revives removed content.
    const string UpsertSql = """
        insert into ml.examples as e (id, source, content_id, text, language, categories, origin, labelled_at, labelled_by)
        select id, source, content_id, text, language, string_to_array(categories, ','), origin, labelled_at, labelled_by
        from unnest(@Ids, @Sources, @ContentIds, @Texts, @Languages, @Categories, @Origins, @LabelledAts, @LabelledBys)
             as r (id, source, content_id, text, language, categories, origin, labelled_at, labelled_by)
        on conflict (source, content_id) do update
           set text = excluded.text, language = excluded.language, categories = excluded.categories, origin = excluded.origin,
               labelled_at = excluded.labelled_at, labelled_by = excluded.labelled_by, updated_at = now()
         where e.removed_at is null and e.labelled_at <= excluded.labelled_at
        returning (xmax = 0) as inserted
        """;

    const string RemoveSql = """
        insert into ml.examples (id, source, content_id, text, language, categories, origin, labelled_at, removed_at)
        values (@Id, @Source, @ContentId, null, 'und', '{}', 'label', @At, @At)
        on conflict (source, content_id) do update set text = null, removed_at = coalesce(ml.examples.removed_at, excluded.removed_at), updated_at = now()
        """;
}

/// <summary>An accepted label from the review workspace becomes (or replaces) the example of its content.</summary>
sealed class LabelAcceptedHandler : IIntegrationEventHandler<LabelAccepted>
{
    public Task HandleAsync(LabelAccepted evt, MessageContext context, CancellationToken ct) =>
        Examples.UpsertAsync(context.Connection, context.Transaction,
            [new NewExample(evt.Source, evt.ContentId?.ToString() ?? $"task:{evt.TaskId}", evt.Text,
                string.IsNullOrWhiteSpace(evt.Language) ? "und" : evt.Language, evt.Categories, Examples.FromLabel, evt.AcceptedAt, evt.AcceptedBy)], ct);
}

/// <summary>A chat message's author removed it: its text leaves the datasets (future snapshots).</summary>
sealed class ChatContentRemovedHandler : IIntegrationEventHandler<ContentRemoved>
{
    public Task HandleAsync(ContentRemoved evt, MessageContext context, CancellationToken ct) =>
        Examples.RemoveAsync(context.Connection, context.Transaction, ContentSources.ChatMessage, evt.MessageId.ToString(), evt.RemovedAt, ct);
}
