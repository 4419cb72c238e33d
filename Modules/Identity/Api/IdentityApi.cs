using System.Security.Claims;
using BirbalAI.Contracts.Identity;
using Dapper;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Npgsql;

namespace BirbalAI.Identity.Api;

/// <summary>GET /api/identity/me: who the caller is, with the role it acts with (a key's cap applied).</summary>
static class GetMe
{
    public sealed record Response(Guid Id, string Name, string Email, string Role, bool ViaApiKey);

    public static void Map(RouteGroupBuilder identity) => identity.MapGet("/me", Handle)
        .RequireAuthorization(Policies.Member)
        .WithSummary("The signed-in user or the API key's user");

    static Ok<Response> Handle(ClaimsPrincipal user) => TypedResults.Ok(new Response(
        user.UserId(), user.Identity!.Name!, user.FindFirstValue(ClaimTypes.Email)!, user.FindFirstValue(ClaimTypes.Role)!,
        user.HasClaim(c => c.Type == Users.Users.KeyIdClaim)));
}

/// <summary>GET /api/identity/users?q=&amp;page=: the user list of the admin portal, for scripts.</summary>
static class ListUsers
{
    public const int PageSize = 50;

    public sealed record Row(Guid Id, string Email, string DisplayName, string Role, bool IsServiceAccount, bool IsDisabled, DateTime? LastSignInAt);
    public sealed record Response(IReadOnlyList<Row> Users, long Total, int Page, int PageSize);

    public static void Map(RouteGroupBuilder identity) => identity.MapGet("/users", Handle)
        .RequireAuthorization(Policies.Admin)
        .WithSummary("List users (Admins)")
        .ProducesProblem(StatusCodes.Status400BadRequest);

    static async Task<Results<Ok<Response>, ProblemHttpResult>> Handle(NpgsqlDataSource db, string? q, int? page, CancellationToken ct)
    {
        if (q?.Length > 100) return TypedResults.Problem("q: at most 100 characters.", statusCode: 400, title: "Invalid query");
        if (page is < 1 or > 100_000) return TypedResults.Problem("page: from 1 to 100000.", statusCode: 400, title: "Invalid query");
        var pattern = Users.Users.LikePattern(q);
        var number = page ?? 1;
        await using var connection = await db.OpenConnectionAsync(ct);
        var total = await connection.ExecuteScalarAsync<long>(new CommandDefinition(CountSql, new { pattern }, cancellationToken: ct));
        var rows = (await connection.QueryAsync<Row>(new CommandDefinition(ListSql,
            new { pattern, Limit = PageSize, Offset = (number - 1) * PageSize }, cancellationToken: ct))).AsList();
        return TypedResults.Ok(new Response(rows, total, number, PageSize));
    }

    const string Where = "where @Pattern::text is null or email ilike @Pattern or display_name ilike @Pattern";
    const string CountSql = $"select count(*) from identity.users {Where}";
    const string ListSql = $"""
        select id, email, display_name, role, is_service_account, disabled_at is not null as is_disabled, last_sign_in_at
        from identity.users {Where}
        order by is_service_account, lower(display_name), id
        limit @Limit offset @Offset
        """;
}
