using System.Security.Claims;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace BirbalAI.Platform;

/// <summary>A person the demo made, with the password it prints once.</summary>
public sealed record DemoPerson(Guid Id, string Email, string DisplayName, string Role, string Password)
{
    /// <summary>The person signed in, for a module that acts as them (a member posting in a room).</summary>
    public ClaimsPrincipal Principal => new(new ClaimsIdentity(
    [
        new Claim(ClaimTypes.NameIdentifier, Id.ToString()), new Claim(ClaimTypes.Name, DisplayName),
        new Claim(ClaimTypes.Email, Email), new Claim(ClaimTypes.Role, Role),
    ], "demo"));
}

/// <summary>What the demo has made so far, handed from one module's part to the next, and where it reports.</summary>
public sealed class DemoInstallation(TextWriter output)
{
    public List<DemoPerson> People { get; } = [];
    public TextWriter Output => output;
    public IEnumerable<DemoPerson> InRole(string role) => People.Where(p => p.Role == role);
}

/// <summary>
/// One module's part of the `demo` verb: what it holds already (any answer refuses the demo: it fills only an empty
/// installation), and its sample content, added in <see cref="Order"/> (people before the rooms they talk in).
/// </summary>
public interface IDemoContent
{
    int Order { get; }

    /// <summary>What this module holds ("2 accounts"), or null when it holds nothing.</summary>
    Task<string?> ExistingContentAsync(CancellationToken ct);

    Task AddAsync(DemoInstallation demo, CancellationToken ct);
}

/// <summary>The verb refused to act (not a wrong use): its message is printed as one line, with exit code 2.</summary>
public sealed class CliRefusedException(string message) : Exception(message);

static class DemoVerb
{
    const string Usage = "demo                     fill an empty installation with sample people (passwords printed once), rooms and a conversation";

    // Two demos at once must not both find the installation empty.
    const long DemoLock = 0x42_69_72_62_61_6c_03;

    public static void Add(IServiceCollection services) => services.AddCliVerb(new CliVerb("demo", Usage, async (sp, args, _, output) =>
    {
        if (args.Length > 0) throw new CliUsageException($"usage: {Usage}");
        var parts = sp.GetServices<IDemoContent>().OrderBy(p => p.Order).ToList();
        await using var connection = await sp.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync();
        await connection.ExecuteAsync("select pg_advisory_lock(@DemoLock)", new { DemoLock });
        try
        {
            var existing = new List<string>();
            foreach (var part in parts)
                if (await part.ExistingContentAsync(CancellationToken.None) is { } held) existing.Add(held);
            if (existing.Count > 0)
                throw new CliRefusedException($"demo refused: this installation already has content ({string.Join(", ", existing)}); the demo fills only an empty one");
            var demo = new DemoInstallation(output);
            foreach (var part in parts) await part.AddAsync(demo, CancellationToken.None);
            await output.WriteLineAsync("demo: done. Sign in at /account/sign-in with any of the people above; their passwords are not shown again.");
            return 0;
        }
        finally
        {
            await connection.ExecuteAsync("select pg_advisory_unlock(@DemoLock)", new { DemoLock });
        }
    }));
}
