using BirbalAI.Platform;
using BirbalAI.Platform.Database;
using Microsoft.Extensions.Options;

namespace BirbalAI.Web;

/// <summary>
/// Command-line verbs for headless operation (each module registers its own as a <see cref="CliVerb"/>),
/// and one clear line instead of a stack trace when the configuration or the database refuses to start.
/// </summary>
static class Cli
{
    /// <summary>A verb is the first argument that is not a setting ("--Section:Key=value"): "migrate", "admin create …".</summary>
    public static bool IsVerb(string[] args) => VerbArgs(args) is [var first, ..] && !first.StartsWith('-') && !first.Contains('=');

    /// <summary>The arguments from the verb on, settings before it left out.</summary>
    static string[] VerbArgs(string[] args) => args.SkipWhile(IsSetting).ToArray();

    static bool IsSetting(string arg) => arg.StartsWith("--", StringComparison.Ordinal) && arg.Contains('=');

    /// <summary>
    /// The arguments that are configuration. A verb's own options ("apikey create --role Member") are not:
    /// only "--Section:Key=value" ones are; without a verb, all are ("--role worker").
    /// </summary>
    public static string[] ConfigurationArgs(string[] args) => IsVerb(args) ? args.Where(IsSetting).ToArray() : args;

    /// <summary>A verb's standard output is its answer (an API key, a folder, a report): its logs go to standard error.</summary>
    public static void LogToStandardError(WebApplicationBuilder builder) =>
        builder.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);

    public static async Task<int> RunAsync(string[] args, Func<Task<int>> run)
    {
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
        catch (CliRefusedException e)
        {
            return Fail(e.Message);
        }
        catch (Exception e) when (e is HostRoleException or MigrationException or CliUsageException)
        {
            return Fail($"{(e is CliUsageException ? "usage" : "start-up refused")}: {e.Message}");
        }
        catch (Npgsql.NpgsqlException e) when (e.InnerException is System.Net.Sockets.SocketException or TimeoutException)
        {
            return Fail($"start-up refused: cannot reach PostgreSQL (Database:ConnectionString): {e.InnerException!.Message}");
        }
    }

    public static async Task<int> RunVerbAsync(WebApplication app, string[] allArgs)
    {
        var args = VerbArgs(allArgs);
        var verbs = app.Services.GetServices<CliVerb>().OrderBy(v => v.Name, StringComparer.Ordinal).ToList();
        if (args[0] is "help")
        {
            Console.WriteLine("Birbal AI — self-hosted content moderation.\n");
            Console.WriteLine("usage: BirbalAI.Web [--role all|web|worker] [--Section:Setting=value …]");
            foreach (var v in verbs) Console.WriteLine($"       BirbalAI.Web {v.Usage}");
            return 0;
        }
        // The longest verb whose words begin the arguments ("apikey create" before "apikey").
        var verb = verbs.Where(v => v.Name.Split(' ') is var words && words.Length <= args.Length && words.SequenceEqual(args[..words.Length]))
            .MaxBy(v => v.Name.Length);
        if (verb is null) return Fail($"unknown verb '{args[0]}'; try: BirbalAI.Web help");
        // Headless set-up runs verbs on a database nothing has started yet: bring it up to date first, unless the
        // deployment migrates on its own (Database:MigrateOnStart=false): then only check that it is.
        if (verb.UsesDatabase && verb.Name != "migrate")
        {
            var migrator = app.Services.GetRequiredService<Migrator>();
            if (app.Services.GetRequiredService<IOptions<DatabaseOptions>>().Value.MigrateOnStart) await migrator.MigrateAsync(CancellationToken.None);
            else await migrator.EnsureUpToDateAsync(CancellationToken.None);
        }
        return await verb.Run(app.Services, args[verb.Name.Split(' ').Length..], Console.In, Console.Out);
    }

    static int Fail(string line)
    {
        Console.Error.WriteLine(line);
        return 2;
    }
}
