using System.ComponentModel.DataAnnotations;
using System.Security.Cryptography;
using Dapper;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace BirbalAI.Platform.Blobs;

public sealed class BlobOptions : IValidatableObject
{
    public const string Section = "Blobs";

    /// <summary>"postgres" (default: one table, nothing else to run) or "disk" (a folder every replica shares).</summary>
    [Required] public string Store { get; set; } = "postgres";

    /// <summary>The folder of the disk store.</summary>
    public string? Directory { get; set; }

    /// <summary>Where each replica keeps the blobs it has read, by content hash; empty for a folder under the system temp.</summary>
    public string? CacheDirectory { get; set; }

    /// <summary>Largest blob accepted, in bytes.</summary>
    [Range(1, 4L * 1024 * 1024 * 1024)] public long MaxBytes { get; set; } = 1024L * 1024 * 1024;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Store is not ("postgres" or "disk")) yield return new ValidationResult("must be \"postgres\" or \"disk\"", [nameof(Store)]);
        if (Store == "disk" && string.IsNullOrWhiteSpace(Directory)) yield return new ValidationResult("is required when Blobs:Store is \"disk\"", [nameof(Directory)]);
    }
}

/// <summary>Immutable blobs addressed by the SHA-256 of their bytes: storing the same bytes twice stores them once.</summary>
public interface IBlobStore
{
    /// <returns>The blob's hash (lower-case hex SHA-256).</returns>
    Task<string> PutAsync(byte[] bytes, CancellationToken ct);

    /// <exception cref="KeyNotFoundException">No blob has this hash.</exception>
    Task<byte[]> GetAsync(string hash, CancellationToken ct);
}

public static class BlobHash
{
    public static string Of(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    public static void Check(string hash)
    {
        if (hash.Length != 64 || !hash.All(char.IsAsciiHexDigitLower)) throw new ArgumentException($"not a blob hash: \"{hash}\"", nameof(hash));
    }
}

sealed class PostgresBlobStore(NpgsqlDataSource db) : IBlobStore
{
    public async Task<string> PutAsync(byte[] bytes, CancellationToken ct)
    {
        var hash = BlobHash.Of(bytes);
        await using var connection = await db.OpenConnectionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition(
            "insert into platform.blobs (hash, size, bytes) values (@hash, @Size, @bytes) on conflict (hash) do nothing",
            new { hash, Size = (long)bytes.Length, bytes }, cancellationToken: ct));
        return hash;
    }

    public async Task<byte[]> GetAsync(string hash, CancellationToken ct)
    {
        BlobHash.Check(hash);
        await using var connection = await db.OpenConnectionAsync(ct);
        return await connection.ExecuteScalarAsync<byte[]?>(new CommandDefinition(
            "select bytes from platform.blobs where hash = @hash", new { hash }, cancellationToken: ct))
            ?? throw new KeyNotFoundException($"no blob {hash}");
    }
}

sealed class DiskBlobStore(string directory) : IBlobStore
{
    string PathOf(string hash) => Path.Combine(directory, hash[..2], hash);

    public async Task<string> PutAsync(byte[] bytes, CancellationToken ct)
    {
        var hash = BlobHash.Of(bytes);
        var path = PathOf(hash);
        if (File.Exists(path)) return hash;
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        // Written aside and moved into place: a reader never sees half a blob.
        var temporary = $"{path}.{Guid.NewGuid():N}.partial";
        await File.WriteAllBytesAsync(temporary, bytes, ct);
        File.Move(temporary, path, overwrite: true);
        return hash;
    }

    public async Task<byte[]> GetAsync(string hash, CancellationToken ct)
    {
        BlobHash.Check(hash);
        var path = PathOf(hash);
        return File.Exists(path) ? await File.ReadAllBytesAsync(path, ct) : throw new KeyNotFoundException($"no blob {hash}");
    }

    public void Delete(string hash)
    {
        BlobHash.Check(hash);
        File.Delete(PathOf(hash));
    }
}

/// <summary>
/// The store the app uses: the configured one behind a local cache by content hash, so each replica reads a
/// blob (a model, say) from the shared store once. A cached file whose bytes no longer match its hash is refetched.
/// </summary>
sealed class CachedBlobStore : IBlobStore
{
    readonly IBlobStore inner;
    readonly DiskBlobStore cache;
    readonly ILogger<CachedBlobStore> logger;
    readonly long maxBytes;

    public CachedBlobStore(IOptions<BlobOptions> options, NpgsqlDataSource db, ILogger<CachedBlobStore> logger)
    {
        var o = options.Value;
        inner = o.Store == "disk" ? new DiskBlobStore(o.Directory!) : new PostgresBlobStore(db);
        cache = new DiskBlobStore(string.IsNullOrWhiteSpace(o.CacheDirectory) ? Path.Combine(Path.GetTempPath(), "birbal-blob-cache") : o.CacheDirectory);
        maxBytes = o.MaxBytes;
        this.logger = logger;
    }

    public async Task<string> PutAsync(byte[] bytes, CancellationToken ct)
    {
        if (bytes.Length > maxBytes) throw new ArgumentException($"the blob is {bytes.Length} bytes; Blobs:MaxBytes is {maxBytes}");
        var hash = await inner.PutAsync(bytes, ct);
        await cache.PutAsync(bytes, ct);
        return hash;
    }

    public async Task<byte[]> GetAsync(string hash, CancellationToken ct)
    {
        try
        {
            var cached = await cache.GetAsync(hash, ct);
            if (BlobHash.Of(cached) == hash) return cached;
            logger.LogWarning("Cached blob {Hash} is corrupt; fetching it again", hash);
            cache.Delete(hash);
        }
        catch (KeyNotFoundException) { }
        var bytes = await inner.GetAsync(hash, ct);
        await cache.PutAsync(bytes, ct);
        return bytes;
    }
}
