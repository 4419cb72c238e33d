using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using System.Text;
using BirbalAI.Contracts.Identity;
using BirbalAI.Identity.Audit;
using BirbalAI.Identity.SignIn;
using BirbalAI.Identity.Users;
using BirbalAI.Platform.Configuration;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace BirbalAI.Identity.Tokens;

/// <summary>Signs the JWTs the API accepts (HMAC-SHA256 with Secrets:JwtSigningKey).</summary>
sealed class TokenIssuer(IOptions<SecretsOptions> secrets, IOptions<IdentityOptions> options, TimeProvider clock)
{
    public const string Issuer = "birbal-ai";
    public const string Audience = "birbal-ai-api";

    public (string Token, int ExpiresIn) Issue(UserRow user)
    {
        var lifetime = TimeSpan.FromMinutes(options.Value.TokenMinutes);
        var now = clock.GetUtcNow().UtcDateTime;
        var token = new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Audience = Audience,
            IssuedAt = now,
            NotBefore = now,
            Expires = now + lifetime,
            Subject = (ClaimsIdentity)Users.Users.Principal(user, "jwt").Identity!,
            SigningCredentials = new SigningCredentials(
                new SymmetricSecurityKey(Encoding.UTF8.GetBytes(secrets.Value.JwtSigningKey)), SecurityAlgorithms.HmacSha256),
        });
        return (token, (int)lifetime.TotalSeconds);
    }
}

/// <summary>POST /api/auth/token: email and password in, a bearer JWT out (OAuth-style field names).</summary>
static class IssueToken
{
    public sealed record Request([Required, EmailAddress, MaxLength(254)] string Email, [Required, MaxLength(256)] string Password);

    public sealed record Response(
        [property: System.Text.Json.Serialization.JsonPropertyName("access_token")] string AccessToken,
        [property: System.Text.Json.Serialization.JsonPropertyName("token_type")] string TokenType,
        [property: System.Text.Json.Serialization.JsonPropertyName("expires_in")] int ExpiresIn);

    public static void Map(RouteGroupBuilder auth) => auth.MapPost("/token", Handle)
        .AllowAnonymous()
        .WithSummary("Exchange an email and password for a bearer JWT")
        .ProducesProblem(StatusCodes.Status400BadRequest)
        .ProducesProblem(StatusCodes.Status401Unauthorized)
        .ProducesProblem(StatusCodes.Status429TooManyRequests);

    static async Task<Results<Ok<Response>, ProblemHttpResult>> Handle(
        Request request, HttpContext http, PasswordSignIn signIn, TokenIssuer tokens, IAuditLog audit, CancellationToken ct)
    {
        var result = await signIn.VerifyAsync(request.Email, request.Password, http.Connection.RemoteIpAddress?.ToString(), ct);
        switch (result.Outcome)
        {
            case SignInOutcome.Success:
                var (token, expiresIn) = tokens.Issue(result.User!);
                await audit.RecordAsync(new AuditEntry(AuditKinds.TokenIssued, result.User!.Id, result.User.Email), null, ct);
                return TypedResults.Ok(new Response(token, "Bearer", expiresIn));
            case SignInOutcome.Throttled:
                http.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(result.RetryAfter?.TotalSeconds ?? 60)).ToString();
                return TypedResults.Problem("Too many sign-in attempts for this account; try again later.",
                    statusCode: StatusCodes.Status429TooManyRequests, title: "Too many requests");
            case SignInOutcome.LockedOut:
                return TypedResults.Problem($"The account is locked until {result.LockedUntil:u} after repeated failures.",
                    statusCode: StatusCodes.Status401Unauthorized, title: "Account locked");
            default:
                return TypedResults.Problem("Wrong email or password.", statusCode: StatusCodes.Status401Unauthorized, title: "Sign-in failed");
        }
    }
}
