using BirbalAI.Identity.Users;
using BirbalAI.Platform;
using Microsoft.Extensions.DependencyInjection;

namespace BirbalAI.Identity.Cli;

/// <summary>Headless operation: `admin create` and `apikey create`.</summary>
static class IdentityVerbs
{
    const string AdminUsage = "admin create --email E      create (or promote) an Admin; the password is read from standard input";
    const string KeyUsage = "apikey create --user E --name N --role R   create an API key for user E (or a new service account N when E is 'service'); prints it once";

    public static void Add(IServiceCollection services)
    {
        services.AddCliVerb(new CliVerb("admin create", AdminUsage, async (sp, args, input, output) =>
        {
            var email = args.Option("--email", AdminUsage);
            var password = (await input.ReadLineAsync())?.TrimEnd('\r', '\n');
            if (string.IsNullOrEmpty(password)) throw new CliUsageException("no password on standard input; usage: " + AdminUsage);
            var user = await Run(() => sp.GetRequiredService<UserAdministration>().CreateAdminAsync(email, password, CancellationToken.None));
            await output.WriteLineAsync($"admin create: {user.Email} is an Admin");
            return 0;
        }));
        services.AddCliVerb(new CliVerb("apikey create", KeyUsage, async (sp, args, _, output) =>
        {
            var (userEmail, name, role) = (args.Option("--user", KeyUsage), args.Option("--name", KeyUsage), args.Option("--role", KeyUsage));
            var admin = sp.GetRequiredService<UserAdministration>();
            var db = sp.GetRequiredService<Npgsql.NpgsqlDataSource>();
            Guid userId;
            if (userEmail == "service")
                userId = (await Run(() => admin.CreateServiceAccountAsync(null, name, role, CancellationToken.None))).Id;
            else
            {
                await using var connection = await db.OpenConnectionAsync();
                userId = (await Users.Users.FindByEmailAsync(connection, userEmail, CancellationToken.None))?.Id
                    ?? throw new CliUsageException($"no user {userEmail}");
            }
            var (_, key) = await Run(() => admin.CreateKeyAsync(null, userId, name, role, CancellationToken.None));
            await output.WriteLineAsync(key);
            return 0;
        }));
    }

    static async Task<T> Run<T>(Func<Task<T>> change)
    {
        try { return await change(); }
        catch (IdentityRuleException e) { throw new CliUsageException(e.Message); }
    }
}
