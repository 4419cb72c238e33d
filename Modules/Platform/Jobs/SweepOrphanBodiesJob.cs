using BirbalAI.Platform.Documents;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace BirbalAI.Platform.Jobs;

/// <summary>
/// Recurring job platform.sweep-orphan-bodies, scheduled only with the MongoDB document store (Mongo:SweepSchedule): a body
/// is written there before its PostgreSQL row commits, so a crash or rollback in between leaves a body without a row. For
/// each collection an <see cref="IDocumentStoreOwner"/> answers for, bodies last written more than Mongo:OrphanGraceMinutes
/// ago are looked at a page at a time; the owner says which have a committed row, and the others are removed (unless written
/// again meanwhile). A collection no module answers for is never swept. With the PostgreSQL store there are no orphans: body
/// and row commit in one transaction.
/// </summary>
sealed class SweepOrphanBodiesJob(MongoDocumentStore store, IEnumerable<IDocumentStoreOwner> owners, IOptions<MongoOptions> options,
    TimeProvider clock, ILogger<SweepOrphanBodiesJob> logger)
{
    public const string Id = "platform.sweep-orphan-bodies";

    public async Task<long> RunAsync(CancellationToken ct)
    {
        var o = options.Value;
        var before = MongoDocumentStore.Milliseconds(clock.GetUtcNow().UtcDateTime.AddMinutes(-o.OrphanGraceMinutes));
        long removed = 0;
        foreach (var owner in owners)
        {
            Guid? after = null;
            while (true)
            {
                var ids = await store.IdsWrittenBeforeAsync(owner.Collection, before, after, o.SweepBatchSize, ct);
                if (ids.Count == 0) break;
                var committed = await owner.CommittedAsync(ids, ct);
                removed += await store.DeleteWrittenBeforeAsync(owner.Collection, ids.Where(id => !committed.Contains(id)).ToList(), before, ct);
                if (ids.Count < o.SweepBatchSize) break;
                after = ids[^1];
            }
        }
        logger.LogInformation("Document store sweep: removed {Removed} bodies without a committed row, written before {Before:o}", removed, before);
        return removed;
    }
}
