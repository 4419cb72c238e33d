using System.Net;
using System.Text;
using System.Threading.RateLimiting;
using BirbalAI.Contracts.Identity;
using BirbalAI.Identity.ApiKeys;
using BirbalAI.Identity.Audit;
using BirbalAI.Identity.SignIn;
using BirbalAI.Identity.Tokens;
using BirbalAI.Identity.Users;
using BirbalAI.Platform;
using BirbalAI.Platform.Configuration;
using BirbalAI.Platform.Jobs;
using BirbalAI.Platform.Messaging;
using BirbalAI.Platform.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using Npgsql;
using RedisRateLimiting;
using StackExchange.Redis;

namespace BirbalAI.Identity;

public static class IdentityModule
{
    internal const string SmartScheme = "Identity";

    public static IServiceCollection AddIdentityModule(this IServiceCollection services)
    {
        services.AddValidatedOptions<IdentityOptions>(IdentityOptions.Section);
        services.AddMigrations("identity", typeof(IdentityModule).Assembly);
        services.AddValidation();
        services.AddHttpContextAccessor();
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<IPasswordHasher<UserRow>, PasswordHasher<UserRow>>();
        services.AddSingleton<IAuditLog, AuditLog>();
        services.AddSingleton<IUserDirectory, Users.UserDirectory>();
        services.AddSingleton<PasswordSignIn>();
        services.AddSingleton<UserAdministration>();
        services.AddSingleton<TokenIssuer>();
        services.AddSingleton<Invitations.Invitations>();
        services.AddSingleton<Invitations.InvitationMail>();
        services.AddRecurringJob<Jobs.PurgeAuditJob>(Jobs.PurgeAuditJob.Id, j => j.RunAsync(CancellationToken.None), BirbalAI.Platform.Jobs.RetentionSchedule.Of);

        services.AddAuthentication(SmartScheme)
            // One scheme that picks the real one: an API key, a JWT, or the page cookie.
            .AddPolicyScheme(SmartScheme, "Cookie, JWT or API key", o => o.ForwardDefaultSelector = context =>
            {
                var header = context.Request.Headers.Authorization.ToString();
                if (header.StartsWith("Bearer " + ApiKeyAuthentication.Prefix, StringComparison.Ordinal)) return ApiKeyAuthentication.SchemeName;
                if (header.StartsWith("Bearer ", StringComparison.Ordinal)) return JwtBearerDefaults.AuthenticationScheme;
                // Browsers cannot set headers on WebSockets: SignalR clients send the JWT as ?access_token= on the hub.
                if (context.Request.Path.StartsWithSegments("/hubs") && context.Request.Query.ContainsKey("access_token")) return JwtBearerDefaults.AuthenticationScheme;
                return CookieAuthenticationDefaults.AuthenticationScheme;
            })
            .AddCookie(o =>
            {
                o.Cookie.Name = "birbal.session";
                o.Cookie.HttpOnly = true;
                o.Cookie.SameSite = SameSiteMode.Lax;
                o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                o.LoginPath = "/account/sign-in";
                o.LogoutPath = "/account/sign-out";
                o.AccessDeniedPath = "/account/denied";
                o.ExpireTimeSpan = TimeSpan.FromHours(12);
                o.SlidingExpiration = true;
                o.Events.OnValidatePrincipal = async context =>
                {
                    var db = context.HttpContext.RequestServices.GetRequiredService<NpgsqlDataSource>();
                    if (context.Principal is null || !await Users.Users.IsCurrentAsync(db, context.Principal, context.HttpContext.RequestAborted))
                    {
                        context.RejectPrincipal();
                        await context.HttpContext.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
                    }
                };
                // The API answers 401/403; only pages redirect to the sign-in page.
                o.Events.OnRedirectToLogin = context => RedirectOrStatus(context, StatusCodes.Status401Unauthorized);
                o.Events.OnRedirectToAccessDenied = context => RedirectOrStatus(context, StatusCodes.Status403Forbidden);
            })
            .AddJwtBearer()
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthentication>(ApiKeyAuthentication.SchemeName, _ => { });
        services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
            .Configure<IOptions<SecretsOptions>>((o, secrets) =>
            {
                o.MapInboundClaims = false;
                o.TokenValidationParameters = new TokenValidationParameters
                {
                    ValidIssuer = TokenIssuer.Issuer,
                    ValidAudience = TokenIssuer.Audience,
                    IssuerSigningKey = new SymmetricSecurityKey(Encoding.UTF8.GetBytes(secrets.Value.JwtSigningKey)),
                    ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
                    ClockSkew = TimeSpan.FromSeconds(30),
                    NameClaimType = System.Security.Claims.ClaimTypes.Name,
                    RoleClaimType = System.Security.Claims.ClaimTypes.Role,
                };
                o.Events = new JwtBearerEvents
                {
                    OnMessageReceived = context =>
                    {
                        if (context.HttpContext.Request.Path.StartsWithSegments("/hubs") && context.Request.Query["access_token"] is [{ Length: > 0 } token])
                            context.Token = token;
                        return Task.CompletedTask;
                    },
                    // A token outlives nothing: a disabled user, a changed password or role ends it.
                    OnTokenValidated = async context =>
                    {
                        var db = context.HttpContext.RequestServices.GetRequiredService<NpgsqlDataSource>();
                        if (context.Principal is null || !await Users.Users.IsCurrentAsync(db, context.Principal, context.HttpContext.RequestAborted))
                            context.Fail("the token's user is disabled or has changed");
                    },
                };
            });

        services.AddAuthorizationBuilder()
            .SetFallbackPolicy(new AuthorizationPolicyBuilder()
                .RequireAssertion(c => c.User.Identity?.IsAuthenticated == true
                    || c.Resource is HttpContext http && PlatformModule.AnswersEveryone(http))
                .Build())
            .AddPolicy(Policies.Admin, p => p.RequireAuthenticatedUser().RequireRole(Roles.Admin))
            .AddPolicy(Policies.Annotator, p => p.RequireAuthenticatedUser().RequireRole(Roles.Annotator, Roles.Admin))
            .AddPolicy(Policies.Member, p => p.RequireAuthenticatedUser().RequireRole(Roles.All.ToArray()));

        services.AddOptions<RateLimiterOptions>().Configure<IConnectionMultiplexer, IOptions<IdentityOptions>, IOptions<RedisOptions>>((o, redis, identity, redisOptions) =>
        {
            var prefix = redisOptions.Value.KeyPrefix;
            // Every /api, /v1 and gRPC request counts against its key, else its user, else its address.
            o.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
            {
                if (!RequestKinds.IsApi(context) && !RequestKinds.IsGrpc(context)) return RateLimitPartition.GetNoLimiter("pages");
                var client = context.User.FindFirst(Users.Users.KeyIdClaim)?.Value is { } key ? "key:" + key
                    : context.User.UserIdOrNull() is { } user ? "user:" + user
                    : "ip:" + context.Connection.RemoteIpAddress;
                return RedisRateLimitPartition.GetFixedWindowRateLimiter($"{prefix}api:{client}", _ => new RedisFixedWindowRateLimiterOptions
                {
                    ConnectionMultiplexerFactory = () => redis,
                    PermitLimit = identity.Value.ApiPerClientLimit,
                    Window = TimeSpan.FromSeconds(identity.Value.ApiWindowSeconds),
                });
            });
        });

        services.AddAdminLink("Users", "/admin/identity/users", Policies.Admin, order: 100);
        services.AddAdminLink("API keys", "/admin/identity/api-keys", Policies.Admin, order: 110);
        services.AddAdminLink("Audit", "/admin/identity/audit", Policies.Admin, order: 120);
        Cli.IdentityVerbs.Add(services);
        services.AddSingleton<IDemoContent, Cli.DemoPeople>();
        return services;
    }

    public static WebApplication MapIdentityModule(this WebApplication app)
    {
        var auth = app.MapGroup("/api/auth").WithTags("Authentication");
        IssueToken.Map(auth);
        var identity = app.MapGroup("/api/identity").WithTags("Identity");
        Api.GetMe.Map(identity);
        Api.ListUsers.Map(identity);
        return app;
    }

    static Task RedirectOrStatus(RedirectContext<CookieAuthenticationOptions> context, int status)
    {
        // Programs (API, hub and gRPC clients) get a status (gRPC turns 401 into Unauthenticated); only pages redirect.
        if (RequestKinds.IsProgram(context.HttpContext))
        {
            context.Response.StatusCode = status;
            return Task.CompletedTask;
        }
        context.Response.Redirect(context.RedirectUri);
        return Task.CompletedTask;
    }
}
