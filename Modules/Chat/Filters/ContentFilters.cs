using System.Security.Claims;
using BirbalAI.Chat.Rooms;
using BirbalAI.Contracts.Identity;
using Dapper;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Npgsql;

namespace BirbalAI.Chat.Filters;

/// <summary>
/// Per person and category, a level: an approved message scoring above it is blurred for that person (shown
/// behind a click), on the page and live. No level for a category: nothing blurred for it.
/// </summary>
static class ContentFilters
{
    public sealed record Request(IReadOnlyDictionary<string, float>? Levels);

    public static void Map(RouteGroupBuilder chat)
    {
        chat.MapGet("/filters", Get).WithSummary("Your content filters: category → level");
        chat.MapPut("/filters", Put).WithSummary("Replace your content filters (levels 0 to 1; absent: not blurred)").ProducesProblem(400);
    }

    public static async Task<IReadOnlyDictionary<string, float>> LevelsAsync(NpgsqlConnection connection, Guid userId, CancellationToken ct) =>
        (await connection.QueryAsync<(string Category, float Level)>(new CommandDefinition(
            "select category, level from chat.filters where user_id = @UserId", new { userId }, cancellationToken: ct))).ToDictionary(r => r.Category, r => r.Level);

    /// <summary>Whether <paramref name="scores"/> break any of <paramref name="levels"/>.</summary>
    public static bool Blurs(IReadOnlyDictionary<string, float> levels, IReadOnlyDictionary<string, float> scores) =>
        levels.Any(l => scores.TryGetValue(l.Key, out var score) && score > l.Value);

    static async Task<Ok<IReadOnlyDictionary<string, float>>> Get(ClaimsPrincipal user, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return TypedResults.Ok(await LevelsAsync(connection, user.UserId(), ct));
    }

    public static string? Check(IReadOnlyDictionary<string, float>? levels) =>
        levels is null ? "levels: required (an empty object clears every filter)"
        : levels.Count > 100 ? "levels: at most 100 categories"
        : levels.FirstOrDefault(l => l.Key.Length is 0 or > 100 || !(l.Value >= 0 && l.Value <= 1)) is { Key: not null } bad
            ? $"{bad.Key}: a level is a number from 0 to 1" : null;

    public static async Task SaveAsync(NpgsqlConnection connection, Guid userId, IReadOnlyDictionary<string, float> levels, CancellationToken ct)
    {
        await using var tx = await connection.BeginTransactionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition("delete from chat.filters where user_id = @UserId", new { userId }, tx, cancellationToken: ct));
        foreach (var (category, level) in levels)
            await connection.ExecuteAsync(new CommandDefinition("insert into chat.filters (user_id, category, level) values (@UserId, @Category, @Level)",
                new { userId, category, level }, tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
    }

    static async Task<Results<Ok<IReadOnlyDictionary<string, float>>, ProblemHttpResult>> Put(Request request, ClaimsPrincipal user, NpgsqlDataSource db, CancellationToken ct)
    {
        if (Check(request.Levels) is { } error) return RoomsApi.Problem(400, error);
        await using var connection = await db.OpenConnectionAsync(ct);
        await SaveAsync(connection, user.UserId(), request.Levels!, ct);
        return TypedResults.Ok(request.Levels!);
    }
}
