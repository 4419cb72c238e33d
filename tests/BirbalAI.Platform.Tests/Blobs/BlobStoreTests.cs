using BirbalAI.Platform.Blobs;
using BirbalAI.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;

namespace BirbalAI.Platform.Tests.Blobs;

public sealed class BlobStoreTests : IAsyncLifetime
{
    readonly string folder = Directory.CreateTempSubdirectory("birbal-blobs-").FullName;
    TestDatabase database = null!;
    NpgsqlDataSource db = null!;

    public async ValueTask InitializeAsync()
    {
        database = await TestDatabase.CreateAsync();
        db = NpgsqlDataSource.Create(database.ConnectionString);
    }

    public async ValueTask DisposeAsync()
    {
        await db.DisposeAsync();
        await database.DisposeAsync();
        Directory.Delete(folder, recursive: true);
    }

    CachedBlobStore Store(string kind, long maxBytes = 1 << 20) => new(Options.Create(new BlobOptions
    {
        Store = kind, Directory = Path.Combine(folder, "store"), CacheDirectory = Path.Combine(folder, "cache"), MaxBytes = maxBytes,
    }), db, NullLogger<CachedBlobStore>.Instance);

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("postgres")]
    [InlineData("disk")]
    public async Task Blobs_are_stored_once_by_content_hash_and_read_back(string kind)
    {
        var store = Store(kind);
        var bytes = "model bytes"u8.ToArray();

        var hash = await store.PutAsync(bytes, Ct);
        var again = await store.PutAsync(bytes, Ct);

        Assert.Equal(BlobHash.Of(bytes), hash);
        Assert.Equal(hash, again);
        Assert.Equal(bytes, await store.GetAsync(hash, Ct));
        await Assert.ThrowsAsync<KeyNotFoundException>(() => store.GetAsync(new string('0', 64), Ct));
        await Assert.ThrowsAsync<ArgumentException>(() => store.GetAsync("../../etc/passwd", Ct));
    }

    [Fact]
    public async Task A_replica_with_an_empty_or_corrupt_cache_reads_from_the_shared_store()
    {
        var bytes = new byte[5000];
        Random.Shared.NextBytes(bytes);
        var hash = await Store("postgres").PutAsync(bytes, Ct);
        var cached = Path.Combine(folder, "cache", hash[..2], hash);

        File.Delete(cached);
        Assert.Equal(bytes, await Store("postgres").GetAsync(hash, Ct));
        Assert.True(File.Exists(cached));   // cached again on the way

        await File.WriteAllTextAsync(cached, "tampered", Ct);
        Assert.Equal(bytes, await Store("postgres").GetAsync(hash, Ct));
        Assert.Equal(bytes, await File.ReadAllBytesAsync(cached, Ct));
    }

    [Fact]
    public async Task A_blob_over_the_limit_is_refused()
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() => Store("postgres", maxBytes: 100).PutAsync(new byte[101], Ct));

        Assert.Contains("Blobs:MaxBytes is 100", error.Message);
    }
}
