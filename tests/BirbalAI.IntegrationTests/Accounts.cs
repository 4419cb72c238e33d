using System.Net.Http.Headers;
using BirbalAI.Identity.Users;
using BirbalAI.Testing;
using Dapper;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace BirbalAI.IntegrationTests;

/// <summary>People and programs for tests: accounts made directly, sessions made through the real sign-in page.</summary>
public static class Accounts
{
    public const string Password = "correct horse battery staple";

    /// <summary>An account with <see cref="Password"/> (no invitation round trip); returns its id and email.</summary>
    public static async Task<(Guid Id, string Email)> CreateAsync(App app, string role, string? email = null)
    {
        email ??= $"{role.ToLowerInvariant()}-{Guid.NewGuid():N}"[..24] + "@example.org";
        var hasher = app.Services.GetRequiredService<IPasswordHasher<UserRow>>();
        await using var connection = await app.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync();
        var id = Guid.CreateVersion7();
        await connection.ExecuteAsync("""
            insert into identity.users (id, email, display_name, role, password_hash, security_stamp)
            values (@id, @email, @name, @role, @hash, gen_random_uuid())
            """, new { id, email, name = $"Test {role}", role, hash = hasher.HashPassword(null!, Password) });
        return (id, email);
    }

    /// <summary>A browser-like client (cookies, redirects) signed in through /account/sign-in.</summary>
    public static async Task<HttpClient> SignedInAsync(App app, string role, string? email = null)
    {
        var (_, address) = await CreateAsync(app, role, email);
        return await SignInAsync(app, address);
    }

    /// <summary>Signs in through the page; the client then sends its own Origin, as a browser does on the site's own requests.</summary>
    public static async Task<HttpClient> SignInAsync(App app, string email, string password = Password)
    {
        var client = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        client.DefaultRequestHeaders.Add("Origin", client.BaseAddress!.GetLeftPart(UriPartial.Authority));
        var page = await client.GetDocumentAsync("/account/sign-in");
        var response = await client.SubmitAsync(page, "#sign-in", new Dictionary<string, string> { ["Email"] = email, ["Password"] = password },
            pageUrl: "/account/sign-in");
        if ((int)response.StatusCode != 302) throw new InvalidOperationException($"Sign-in of {email} answered {(int)response.StatusCode}");
        return client;
    }

    /// <summary>A new <paramref name="role"/> user with an API key: a client calling the API with it, and who they are.</summary>
    public static async Task<(HttpClient Api, string Key, Guid Id, string Email)> PersonAsync(App app, string role)
    {
        var (id, email) = await CreateAsync(app, role);
        var (_, key) = await app.Services.GetRequiredService<UserAdministration>().CreateKeyAsync(null, id, "test key", role, CancellationToken.None);
        var client = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return (client, key, id, email);
    }

    /// <summary>A client calling the API with a new key of a new <paramref name="role"/> user, capped at <paramref name="cap"/>.</summary>
    public static async Task<(HttpClient Client, string Key, Guid UserId)> WithApiKeyAsync(App app, string role, string? cap = null)
    {
        var (id, _) = await CreateAsync(app, role);
        var (_, key) = await app.Services.GetRequiredService<UserAdministration>().CreateKeyAsync(null, id, "test key", cap ?? role, CancellationToken.None);
        var client = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return (client, key, id);
    }
}
