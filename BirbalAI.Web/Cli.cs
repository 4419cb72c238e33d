using BirbalAI.Platform;
using BirbalAI.Platform.Database;
using Microsoft.Extensions.Options;

namespace BirbalAI.Web;

/// <summary>
/// Command-line verbs for headless operation, and one clear line instead of a stack trace when the
/// configuration or the database refuses to start.
/// </summary>
static class Cli
{
    static readonly string[] Verbs = ["migrate"];

    public static bool IsVerb(string[] args) => args.Length > 0 && Verbs.Contains(args[0]);

    public static async Task<int> RunAsync(string[] args, Func<Task<int>> run)
    {
        if (args is ["help" or "--help" or "-h", ..])
        {
            Console.WriteLine("""
                Birbal AI — self-hosted content moderation.

                usage: BirbalAI.Web [--role all|web|worker] [--Section:Setting=value …]
                       BirbalAI.Web migrate        apply the database migrations and exit
                """);
            return 0;
        }
        try
        {
            return await run();
        }
        catch (OptionsValidationException e)
        {
            return Fail($"configuration error: {string.Join("; ", e.Failures)}");
        }
        catch (AggregateException e) when (e.InnerExceptions.All(i => i is OptionsValidationException))
        {
            return Fail($"configuration error: {string.Join("; ", e.InnerExceptions.Cast<OptionsValidationException>().SelectMany(i => i.Failures))}");
        }
        catch (Exception e) when (e is HostRoleException or MigrationException)
        {
            return Fail($"start-up refused: {e.Message}");
        }
        catch (Npgsql.NpgsqlException e) when (e.InnerException is System.Net.Sockets.SocketException or TimeoutException)
        {
            return Fail($"start-up refused: cannot reach PostgreSQL (Database:ConnectionString): {e.InnerException!.Message}");
        }
    }

    public static async Task<int> RunVerbAsync(WebApplication app, string[] args)
    {
        switch (args[0])
        {
            case "migrate":
                var applied = await app.Services.GetRequiredService<Migrator>().MigrateAsync(CancellationToken.None);
                Console.WriteLine(applied.Count == 0
                    ? "migrate: the database is up to date"
                    : $"migrate: applied {applied.Count}: {string.Join(", ", applied.Select(m => $"{m.Module}/{m.Version:0000}_{m.Name}"))}");
                return 0;
            default:
                return Fail($"unknown verb '{args[0]}'");
        }
    }

    static int Fail(string line)
    {
        Console.Error.WriteLine(line);
        return 2;
    }
}
