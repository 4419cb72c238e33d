using System.Security.Cryptography;
using BirbalAI.Contracts.Identity;
using BirbalAI.Identity.Users;
using BirbalAI.Platform;
using Dapper;
using Npgsql;

namespace BirbalAI.Identity.Cli;

/// <summary>The demo's people: one of each role and three members, each with a new password printed once.</summary>
sealed class DemoPeople(NpgsqlDataSource db, UserAdministration administration) : IDemoContent
{
    static readonly (string Email, string Name, string Role)[] People =
    [
        ("ada@example.org", "Ada Okafor", Roles.Admin),
        ("ravi@example.org", "Ravi Menon", Roles.Annotator),
        ("maya@example.org", "Maya Lindqvist", Roles.Member),
        ("omar@example.org", "Omar Haddad", Roles.Member),
        ("lena@example.org", "Lena Fischer", Roles.Member),
    ];

    public int Order => 10;

    public async Task<string?> ExistingContentAsync(CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var accounts = await connection.ExecuteScalarAsync<long>(new CommandDefinition("select count(*) from identity.users", cancellationToken: ct));
        return accounts > 0 ? $"{accounts} account(s)" : null;
    }

    public async Task AddAsync(DemoInstallation demo, CancellationToken ct)
    {
        await demo.Output.WriteLineAsync("demo: people (each password is shown only now):");
        foreach (var (email, name, role) in People)
        {
            // 120 random bits as 20 URL-safe characters: within the password rules (10–256 characters).
            var password = Convert.ToBase64String(RandomNumberGenerator.GetBytes(15)).Replace('+', '-').Replace('/', '_');
            var user = await administration.CreatePersonAsync(email, name, role, password, ct);
            demo.People.Add(new DemoPerson(user.Id, user.Email, user.DisplayName, user.Role, password));
            await demo.Output.WriteLineAsync($"  {role,-10} {name,-16} {email,-18} {password}");
        }
    }
}
