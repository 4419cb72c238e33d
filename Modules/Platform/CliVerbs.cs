using Microsoft.Extensions.DependencyInjection;

namespace BirbalAI.Platform;

/// <summary>
/// A command-line verb for headless operation ("migrate", "admin create", …). <see cref="Run"/> gets the
/// app's services, the arguments after the verb, standard input and output; it returns the exit code.
/// A verb that <see cref="UsesDatabase"/> runs after the migrations; one that does not (e.g. training a
/// model from a file) needs no server at all.
/// </summary>
public sealed record CliVerb(string Name, string Usage, Func<IServiceProvider, string[], TextReader, TextWriter, Task<int>> Run, bool UsesDatabase = true);

/// <summary>Wrong use of a verb: the message is printed as one line, with exit code 2.</summary>
public sealed class CliUsageException(string message) : Exception(message);

public static class CliVerbRegistration
{
    public static IServiceCollection AddCliVerb(this IServiceCollection services, CliVerb verb) => services.AddSingleton(verb);

    /// <summary>The value after <paramref name="option"/>, or <paramref name="fallback"/> when the option is absent.</summary>
    public static string? OptionalOption(this string[] args, string option, string usage, string? fallback = null) =>
        Array.IndexOf(args, option) >= 0 ? args.Option(option, usage) : fallback;

    /// <summary>An integer option within a range, or a usage error saying so.</summary>
    public static int IntOption(this string[] args, string option, string usage, int fallback, int min, int max) =>
        args.OptionalOption(option, usage) is not { } text ? fallback
        : int.TryParse(text, out var value) && value >= min && value <= max ? value
        : throw new CliUsageException($"{option} must be a whole number from {min} to {max}, not \"{text}\"");

    /// <summary>The value after <paramref name="option"/> ("--email a@b"), or a usage error naming it.</summary>
    public static string Option(this string[] args, string option, string usage)
    {
        var at = Array.IndexOf(args, option);
        return at >= 0 && at + 1 < args.Length && !args[at + 1].StartsWith("--", StringComparison.Ordinal)
            ? args[at + 1]
            : throw new CliUsageException($"missing {option}; usage: {usage}");
    }
}
