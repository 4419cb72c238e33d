using System.Diagnostics;
using System.Formats.Tar;
using System.Text.Json;
using BirbalAI.Platform.Blobs;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;

namespace BirbalAI.Platform.Database;

/// <summary>
/// `backup` and `restore`: one tar archive holding a `pg_dump` of every schema the app owns — each module's (as the
/// migration history names them, so a module that lands later is in without a change here), Hangfire's — and the
/// blobs of a disk blob store (a PostgreSQL blob store is in the dump). `pg_dump` takes one snapshot, so the database
/// part is consistent while the app runs; blobs are immutable and named by their hash, so copying them afterwards
/// only adds ones the dump may not reference yet.
/// </summary>
static class Backup
{
    const string BackupUsage = "backup --out FILE          write a consistent archive of the database (every module's schema and Hangfire's) and the disk blobs";
    const string RestoreUsage = "restore --from FILE        restore an archive from `backup` into an empty database (and the disk blob store)";
    const string DumpEntry = "database.dump", ManifestEntry = "manifest.json", BlobsEntry = "blobs/";

    sealed record Manifest(string Format, DateTime CreatedAt, IReadOnlyList<string> Schemas, IReadOnlyList<string> Migrations, int Blobs);

    public static void Add(IServiceCollection services)
    {
        // No migrations first: a backup takes the database as it is, and a restore needs it empty.
        services.AddCliVerb(new CliVerb("backup", BackupUsage, (sp, args, _, output) => BackupAsync(sp, args.Option("--out", BackupUsage), output), UsesDatabase: false));
        services.AddCliVerb(new CliVerb("restore", RestoreUsage, (sp, args, _, output) => RestoreAsync(sp, args.Option("--from", RestoreUsage), output), UsesDatabase: false));
    }

    static async Task<int> BackupAsync(IServiceProvider sp, string file, TextWriter output)
    {
        var options = sp.GetRequiredService<IOptions<DatabaseOptions>>().Value;
        await using var connection = await sp.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync();
        if (!await connection.ExecuteScalarAsync<bool>("select to_regclass('platform.schema_migrations') is not null"))
            throw new CliRefusedException("backup refused: the database was never migrated, so there is nothing to back up");
        var schemas = (await connection.QueryAsync<string>(SchemasSql)).AsList();
        var migrations = (await connection.QueryAsync<string>(
            "select module || '/' || lpad(version::text, 4, '0') || '_' || name from platform.schema_migrations order by module, version")).AsList();

        var work = Directory.CreateTempSubdirectory("birbal-backup-");
        try
        {
            var dump = Path.Combine(work.FullName, DumpEntry);
            await RunAsync("pg_dump", options.ConnectionString, ["--format=custom", "--no-owner", "--no-privileges", $"--file={dump}", .. schemas.Select(s => $"--schema={s}")]);
            var blobDirectory = DiskBlobDirectory(sp);
            var blobs = blobDirectory is null || !Directory.Exists(blobDirectory) ? [] : Directory.GetFiles(blobDirectory, "*", SearchOption.AllDirectories);

            var full = Path.GetFullPath(file);
            var partial = full + ".partial";
            await using (var stream = File.Create(partial))
            await using (var tar = new TarWriter(stream, TarEntryFormat.Pax, leaveOpen: false))
            {
                var manifest = JsonSerializer.SerializeToUtf8Bytes(new Manifest("birbal-backup-1", DateTime.UtcNow, schemas, migrations, blobs.Length),
                    new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true });
                await tar.WriteEntryAsync(new PaxTarEntry(TarEntryType.RegularFile, ManifestEntry) { DataStream = new MemoryStream(manifest) });
                await tar.WriteEntryAsync(dump, DumpEntry);
                foreach (var blob in blobs)
                    await tar.WriteEntryAsync(blob, BlobsEntry + Path.GetRelativePath(blobDirectory!, blob).Replace('\\', '/'));
            }
            File.Move(partial, full, overwrite: true);   // a half-written archive never has the final name
            await output.WriteLineAsync($"backup: schemas {string.Join(", ", schemas)}; {migrations.Count} migrations; {blobs.Length} disk blob(s) → {full}");
            return 0;
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    static async Task<int> RestoreAsync(IServiceProvider sp, string file, TextWriter output)
    {
        if (!File.Exists(file)) throw new CliUsageException($"no archive {file}; usage: {RestoreUsage}");
        var options = sp.GetRequiredService<IOptions<DatabaseOptions>>().Value;
        await using (var connection = await sp.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync())
        {
            var present = (await connection.QueryAsync<string>(AnySchemaSql)).AsList();
            if (present.Count > 0)
                throw new CliRefusedException($"restore refused: the database is not empty (schemas {string.Join(", ", present)}); restore into a new, empty database");
        }

        var work = Directory.CreateTempSubdirectory("birbal-restore-");
        try
        {
            Manifest? manifest = null;
            var blobDirectory = DiskBlobDirectory(sp);
            var blobs = 0;
            await using (var stream = File.OpenRead(file))
            await using (var tar = new TarReader(stream))
            {
                while (await tar.GetNextEntryAsync() is { } entry)
                {
                    if (entry.Name == ManifestEntry)
                        manifest = await JsonSerializer.DeserializeAsync<Manifest>(entry.DataStream!, new JsonSerializerOptions(JsonSerializerDefaults.Web));
                    else if (entry.Name == DumpEntry)
                        await entry.ExtractToFileAsync(Path.Combine(work.FullName, DumpEntry), overwrite: false);
                    else if (entry.Name.StartsWith(BlobsEntry, StringComparison.Ordinal) && entry.EntryType == TarEntryType.RegularFile)
                    {
                        // Blob names are hashes under a two-letter folder; nothing else is written.
                        var relative = entry.Name[BlobsEntry.Length..];
                        if (relative.Split('/') is not [{ Length: 2 }, var hash] || hash.Length != 64 || !hash.All(char.IsAsciiHexDigitLower))
                            throw new CliRefusedException($"restore refused: {entry.Name} in the archive is not a blob");
                        if (blobDirectory is null) throw new CliRefusedException("restore refused: the archive has disk blobs but Blobs:Store is not \"disk\" here");
                        Directory.CreateDirectory(Path.Combine(blobDirectory, relative[..2]));
                        await entry.ExtractToFileAsync(Path.Combine(blobDirectory, relative), overwrite: true);
                        blobs++;
                    }
                }
            }
            if (manifest is not { Format: "birbal-backup-1" } || !File.Exists(Path.Combine(work.FullName, DumpEntry)))
                throw new CliRefusedException($"restore refused: {file} is not an archive made by `backup`");
            await RunAsync("pg_restore", options.ConnectionString, ["--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction", Path.Combine(work.FullName, DumpEntry)]);
            await output.WriteLineAsync($"restore: schemas {string.Join(", ", manifest.Schemas)} from {manifest.CreatedAt:yyyy-MM-dd HH:mm:ss}Z; {manifest.Migrations.Count} migrations; {blobs} disk blob(s)");
            return 0;
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    static string? DiskBlobDirectory(IServiceProvider sp) =>
        sp.GetRequiredService<IOptions<BlobOptions>>().Value is { Store: "disk", Directory: { Length: > 0 } directory } ? Path.GetFullPath(directory) : null;

    /// <summary>Runs pg_dump or pg_restore against the app's database, its connection given as libpq's environment (never on the command line).</summary>
    static async Task RunAsync(string program, string connectionString, IEnumerable<string> arguments)
    {
        var c = new NpgsqlConnectionStringBuilder(connectionString);
        var start = new ProcessStartInfo(program) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        start.ArgumentList.Add(program == "pg_dump" ? c.Database! : $"--dbname={c.Database}");
        start.Environment["PGHOST"] = c.Host;
        start.Environment["PGPORT"] = c.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["PGUSER"] = c.Username;
        if (!string.IsNullOrEmpty(c.Password)) start.Environment["PGPASSWORD"] = c.Password;
        start.Environment["PGSSLMODE"] = c.SslMode switch
        {
            SslMode.Disable => "disable", SslMode.Allow => "allow", SslMode.Require => "require",
            SslMode.VerifyCA => "verify-ca", SslMode.VerifyFull => "verify-full", _ => "prefer",
        };
        Process process;
        try { process = Process.Start(start)!; }
        catch (System.ComponentModel.Win32Exception) { throw new CliRefusedException($"{program} is not installed (postgresql-client-15; the image carries it)"); }
        using (process)
        {
            var errors = process.StandardError.ReadToEndAsync();
            await process.StandardOutput.ReadToEndAsync();
            await process.WaitForExitAsync();
            if (process.ExitCode != 0)
                throw new CliRefusedException($"{program} failed (exit code {process.ExitCode}): {string.Join(" ", (await errors).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Take(3))}");
        }
    }

    // The schemas the app owns: every module's (each owns the schema of its name, as the migration history names it) and Hangfire's.
    const string SchemasSql = """
        select n.nspname
        from pg_namespace n
        where n.nspname in ('platform', 'hangfire') or n.nspname in (select module from platform.schema_migrations)
        order by n.nspname
        """;

    // Anything but PostgreSQL's own schemas and the empty public one a new database has.
    const string AnySchemaSql = """
        select nspname from pg_namespace
        where nspname not like 'pg\_%' and nspname not in ('information_schema', 'public')
        order by nspname
        """;
}
