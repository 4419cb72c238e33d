using BirbalAI.Contracts.Identity;
using BirbalAI.Identity.Users;
using BirbalAI.Platform.Messaging;
using Dapper;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace BirbalAI.Identity.Pages.Account;

/// <summary>
/// The page session: a cookie that names a session row (identity.sessions), so signing out ends the session on
/// the server — a copy of the cookie is worth nothing afterwards — and the cookie check refuses ended sessions.
/// </summary>
static class SignInCookie
{
    /// <summary>Signs <paramref name="user"/> in; <paramref name="sessionId"/> keeps the current session (after a password change), else a new one starts.</summary>
    public static async Task SignInAsync(HttpContext http, UserRow user, Guid? sessionId = null)
    {
        var id = sessionId ?? Guid.CreateVersion7();
        if (sessionId is null)
        {
            await using var connection = await http.RequestServices.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync(http.RequestAborted);
            await connection.ExecuteAsync(new CommandDefinition(StartSql, new { Id = id, UserId = user.Id }, cancellationToken: http.RequestAborted));
        }
        await http.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme,
            Users.Users.Principal(user, CookieAuthenticationDefaults.AuthenticationScheme, sessionId: id),
            new AuthenticationProperties { IsPersistent = false });
    }

    /// <summary>The session id of a signed-in page user, or null.</summary>
    public static Guid? SessionOf(HttpContext http) =>
        Guid.TryParse(http.User.FindFirst(Users.Users.SessionClaim)?.Value, out var id) ? id : null;

    /// <summary>Ends the caller's session on the server and in the browser; every replica closes its live connections.</summary>
    public static async Task SignOutAsync(HttpContext http)
    {
        if (SessionOf(http) is { } id)
        {
            await using var connection = await http.RequestServices.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync(http.RequestAborted);
            var userId = await connection.QuerySingleOrDefaultAsync<Guid?>(new CommandDefinition(EndSql, new { Id = id }, cancellationToken: http.RequestAborted));
            if (userId is { } user) await http.RequestServices.GetRequiredService<Broadcasts>().PublishAsync(UserChanged.Channel, user.ToString());
        }
        await http.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
    }

    /// <summary>Only a local path: an open redirect would let a link send people elsewhere after signing in.</summary>
    public static string SafeReturnUrl(string? returnUrl, string fallback = "/") =>
        !string.IsNullOrEmpty(returnUrl) && returnUrl.StartsWith('/') && !returnUrl.StartsWith("//", StringComparison.Ordinal)
            && !returnUrl.StartsWith("/\\", StringComparison.Ordinal) ? returnUrl : fallback;

    // Ended sessions are kept a month (for audit questions), then dropped when their user next signs in.
    const string StartSql = """
        delete from identity.sessions where user_id = @UserId and ended_at < now() - interval '30 days';
        insert into identity.sessions (id, user_id) values (@Id, @UserId);
        """;

    const string EndSql = "update identity.sessions set ended_at = now() where id = @Id and ended_at is null returning user_id";
}
