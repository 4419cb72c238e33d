using BirbalAI.Contracts.Identity;
using Dapper;
using Npgsql;

namespace BirbalAI.Identity.Users;

sealed class UserDirectory(NpgsqlDataSource db, TimeProvider clock) : IUserDirectory
{
    public Task<bool> IsCurrentAsync(System.Security.Claims.ClaimsPrincipal user, CancellationToken ct) =>
        Users.IsCurrentAsync(db, user, ct, clock.GetUtcNow());

    public async Task<DirectoryUser?> FindByEmailAsync(string email, CancellationToken ct)
    {
        if (email.Length > 254) return null;
        await using var connection = await db.OpenConnectionAsync(ct);
        return await connection.QuerySingleOrDefaultAsync<DirectoryUser>(new CommandDefinition(
            "select id, display_name, email from identity.users where lower(email) = lower(@Email) and disabled_at is null",
            new { email }, cancellationToken: ct));
    }

    public async Task<IReadOnlyDictionary<Guid, string>> NamesAsync(IReadOnlyCollection<Guid> ids, CancellationToken ct)
    {
        if (ids.Count == 0) return new Dictionary<Guid, string>();
        await using var connection = await db.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<(Guid Id, string Name)>(new CommandDefinition(
            "select id, display_name from identity.users where id = any(@Ids)", new { Ids = ids.ToArray() }, cancellationToken: ct)))
            .ToDictionary(r => r.Id, r => r.Name);
    }
}
