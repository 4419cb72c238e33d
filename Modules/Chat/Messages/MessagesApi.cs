using System.Security.Claims;
using BirbalAI.Chat.Rooms;
using BirbalAI.Contracts.Identity;
using Dapper;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;
using Npgsql;

namespace BirbalAI.Chat.Messages;

/// <summary>Messages over REST for bots and scripts; the pages use the same code.</summary>
static class MessagesApi
{
    public sealed record PostRequest(string? Text);

    public static void Map(RouteGroupBuilder rooms, RouteGroupBuilder messages)
    {
        rooms.MapGet("/{roomId:guid}/messages", History).WithSummary("History, oldest first; `before` (a message id) pages back").ProducesProblem(403).ProducesProblem(404);
        rooms.MapPost("/{roomId:guid}/messages", Post)
            .WithSummary("Send a message: moderated before anyone else sees it (status approved, held or rejected)")
            .ProducesProblem(400).ProducesProblem(403).ProducesProblem(404).ProducesProblem(429);
        messages.MapPut("/{messageId:guid}", Edit).WithSummary("Edit your message: moderated again").ProducesProblem(400).ProducesProblem(403).ProducesProblem(404).ProducesProblem(409).ProducesProblem(429);
        messages.MapDelete("/{messageId:guid}", Delete).WithSummary("Delete your message").ProducesProblem(403).ProducesProblem(404).ProducesProblem(409);
        messages.MapPost("/{messageId:guid}/release", Release).WithSummary("Release a held message (room moderators, Admins)").ProducesProblem(403).ProducesProblem(404).ProducesProblem(409);
        messages.MapPost("/{messageId:guid}/remove", Remove).WithSummary("Remove a message (room moderators, Admins)").ProducesProblem(403).ProducesProblem(404).ProducesProblem(409);
    }

    static async Task<Results<Ok<IReadOnlyList<MessageView>>, ProblemHttpResult>> History(Guid roomId, Guid? before, int? limit, ClaimsPrincipal user,
        NpgsqlDataSource db, IOptions<ChatOptions> options, CancellationToken ct)
    {
        if (limit is < 1 || limit > options.Value.PageSize) return RoomsApi.Problem(400, $"limit: 1 to {options.Value.PageSize}.");
        await using var connection = await db.OpenConnectionAsync(ct);
        var room = await RoomAccess.GetAsync(connection, roomId, user.UserId(), ct);
        if (room is null || !room.IsVisibleTo(user)) return RoomsApi.Problem(404, "No such room.");
        if (!room.IsMember) return RoomsApi.Problem(403, "Join the room to read it.");
        var history = await ChatMessages.HistoryAsync(connection, roomId, user.UserId(), before, limit ?? options.Value.PageSize, ct);
        if (before is null) await RoomAccess.MarkReadAsync(connection, roomId, user.UserId(), ct);
        return TypedResults.Ok(history);
    }

    static async Task<IResult> Post(Guid roomId, PostRequest request, ClaimsPrincipal user, ChatMessages messages, HttpResponse response, CancellationToken ct) =>
        ToResult(await messages.PostAsync(user, roomId, request.Text, ct), response);

    static async Task<IResult> Edit(Guid messageId, PostRequest request, ClaimsPrincipal user, ChatMessages messages, HttpResponse response, CancellationToken ct) =>
        ToResult(await messages.EditAsync(user, messageId, request.Text, ct), response);

    static async Task<IResult> Delete(Guid messageId, ClaimsPrincipal user, ChatMessages messages, CancellationToken ct) =>
        ToResult(await messages.DeleteAsync(user, messageId, ct));

    static async Task<IResult> Release(Guid messageId, ClaimsPrincipal user, ChatMessages messages, CancellationToken ct) =>
        ToResult(await messages.ReleaseAsync(user, messageId, ct));

    static async Task<IResult> Remove(Guid messageId, ClaimsPrincipal user, ChatMessages messages, CancellationToken ct) =>
        ToResult(await messages.RemoveAsync(user, messageId, ct));

    static IResult ToResult(Outcome outcome, HttpResponse? response = null)
    {
        if (outcome.RetryAfter is { } wait && response is not null)
            response.Headers.RetryAfter = ((int)wait.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
        return outcome switch
        {
            { Message: { } m, Status: 201 } => TypedResults.Created($"/api/chat/messages/{m.Id}", m),
            { Message: { } m } => TypedResults.Ok(m),
            _ => RoomsApi.Problem(outcome.Status, outcome.Error!),
        };
    }
}

/// <summary>GET /api/chat/review: held messages in the rooms the caller moderates (every room for Admins).</summary>
static class ReviewApi
{
    public static void Map(RouteGroupBuilder chat) => chat.MapGet("/review", List).WithSummary("Held messages you may release or remove");

    static async Task<Ok<IReadOnlyList<MessageView>>> List(ClaimsPrincipal user, NpgsqlDataSource db, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return TypedResults.Ok(await ChatMessages.HeldAsync(connection, user.UserId(), user.IsInRole(Roles.Admin), ct));
    }
}
