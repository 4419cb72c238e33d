using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using BirbalAI.Contracts.Identity;
using BirbalAI.Identity.Tokens;
using BirbalAI.Identity.Users;
using BirbalAI.Platform.Configuration;
using BirbalAI.Testing;
using Dapper;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace BirbalAI.IntegrationTests.Identity;

/// <summary>JWTs and API keys, both as `Authorization: Bearer`.</summary>
public sealed class ApiAuthTests(App app) : IClassFixture<App>
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    HttpClient Bearer(string token)
    {
        var client = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    async Task<string> TokenAsync(string email, string password = Accounts.Password)
    {
        var response = await app.CreateClient().PostAsJsonAsync("/api/auth/token", new { email, password }, Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement;
        Assert.Equal("Bearer", body.GetProperty("token_type").GetString());
        Assert.Equal(3600, body.GetProperty("expires_in").GetInt32());
        return body.GetProperty("access_token").GetString()!;
    }

    async Task DisableAsync(Guid userId)
    {
        await using var connection = await app.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync(Ct);
        await connection.ExecuteAsync("update identity.users set disabled_at = now() where id = @userId", new { userId });
    }

    [Fact]
    public async Task A_token_from_the_token_endpoint_calls_the_api_as_its_user()
    {
        var (_, email) = await Accounts.CreateAsync(app, Roles.Annotator);

        var me = await Bearer(await TokenAsync(email)).GetFromJsonAsync<JsonElement>("/api/identity/me", Ct);

        Assert.Equal(email, me.GetProperty("email").GetString());
        Assert.Equal(Roles.Annotator, me.GetProperty("role").GetString());
        Assert.False(me.GetProperty("viaApiKey").GetBoolean());
    }

    [Fact]
    public async Task A_wrong_password_gets_a_401_problem()
    {
        var (_, email) = await Accounts.CreateAsync(app, Roles.Member);

        var response = await app.CreateClient().PostAsJsonAsync("/api/auth/token", new { email, password = "wrong password!" }, Ct);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task An_expired_a_forged_or_a_tampered_token_gets_401()
    {
        var (id, email) = await Accounts.CreateAsync(app, Roles.Admin);
        await using var connection = await app.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync(Ct);
        var user = (await Users.FindAsync(connection, id, Ct))!;
        var secrets = app.Services.GetRequiredService<IOptions<SecretsOptions>>();
        var options = app.Services.GetRequiredService<IOptions<BirbalAI.Identity.IdentityOptions>>();
        var expired = new TokenIssuer(secrets, options, new FakeTimeProvider(DateTimeOffset.UtcNow.AddHours(-2))).Issue(user).Token;
        var forged = new TokenIssuer(Options.Create(new SecretsOptions { JwtSigningKey = "someone-elses-key-0123456789abcdef0123456789" }),
            options, TimeProvider.System).Issue(user).Token;
        var valid = await TokenAsync(email);
        var parts = valid.Split('.');
        var tampered = $"{parts[0]}.{parts[1][..^2]}AA.{parts[2]}";

        Assert.Equal(HttpStatusCode.OK, (await Bearer(valid).GetAsync("/api/identity/users", Ct)).StatusCode);
        foreach (var token in new[] { expired, forged, tampered, "not-a-jwt" })
            Assert.Equal(HttpStatusCode.Unauthorized, (await Bearer(token).GetAsync("/api/identity/users", Ct)).StatusCode);
    }

    [Fact]
    public async Task A_token_of_a_user_disabled_since_gets_401()
    {
        var (id, email) = await Accounts.CreateAsync(app, Roles.Member);
        var token = await TokenAsync(email);

        await DisableAsync(id);

        Assert.Equal(HttpStatusCode.Unauthorized, (await Bearer(token).GetAsync("/api/identity/me", Ct)).StatusCode);
    }

    [Fact]
    public async Task An_api_key_acts_as_its_user_and_records_when_it_was_used()
    {
        var (client, key, userId) = await Accounts.WithApiKeyAsync(app, Roles.Annotator);

        var me = await client.GetFromJsonAsync<JsonElement>("/api/identity/me", Ct);

        Assert.Equal(userId, me.GetProperty("id").GetGuid());
        Assert.True(me.GetProperty("viaApiKey").GetBoolean());
        await using var connection = await app.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync(Ct);
        Assert.True(await connection.ExecuteScalarAsync<bool>(
            "select last_used_at is not null from identity.api_keys where key_hash = @hash", new { hash = Users.Hash(key) }));
        Assert.False(await connection.ExecuteScalarAsync<bool>(
            "select exists (select 1 from identity.api_keys where key_hash = @key)", new { key }));   // stored hashed, never as typed
    }

    [Fact]
    public async Task A_revoked_key_an_unknown_key_and_a_key_of_a_disabled_user_get_401()
    {
        var (revoked, revokedKey, _) = await Accounts.WithApiKeyAsync(app, Roles.Member);
        var (ofDisabled, _, disabledUser) = await Accounts.WithApiKeyAsync(app, Roles.Member);
        await using (var connection = await app.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync(Ct))
        {
            var keyId = await connection.ExecuteScalarAsync<Guid>("select id from identity.api_keys where key_hash = @hash", new { hash = Users.Hash(revokedKey) });
            await app.Services.GetRequiredService<UserAdministration>().RevokeKeyAsync(Guid.Empty, keyId, Ct);
        }
        await DisableAsync(disabledUser);

        Assert.Equal(HttpStatusCode.Unauthorized, (await revoked.GetAsync("/api/identity/me", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await ofDisabled.GetAsync("/api/identity/me", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Bearer("bk_" + new string('x', 43)).GetAsync("/api/identity/me", Ct)).StatusCode);
    }

    [Theory]
    [InlineData(Roles.Member, Roles.Admin, HttpStatusCode.Forbidden)]      // a key's cap never raises its user's role
    [InlineData(Roles.Admin, Roles.Member, HttpStatusCode.Forbidden)]      // ...and it lowers it
    [InlineData(Roles.Admin, Roles.Admin, HttpStatusCode.OK)]
    public async Task A_key_acts_with_the_lesser_of_its_users_role_and_its_cap(string role, string cap, HttpStatusCode expected)
    {
        var (client, _, _) = await Accounts.WithApiKeyAsync(app, role, cap);

        Assert.Equal(expected, (await client.GetAsync("/api/identity/users", Ct)).StatusCode);
    }

    [Fact]
    public async Task Without_credentials_the_api_answers_401_problem_details_never_a_redirect()
    {
        var response = await app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false })
            .GetAsync("/api/identity/me", Ct);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task A_password_change_or_reset_revokes_the_persons_own_keys_and_never_a_service_accounts()
    {
        var users = app.Services.GetRequiredService<UserAdministration>();
        var (person, personKey, personId, _) = await Accounts.PersonAsync(app, Roles.Member);
        var service = await users.CreateServiceAccountAsync(null, "ingest bot", Roles.Member, Ct);
        var (_, serviceKey) = await users.CreateKeyAsync(null, service.Id, "ingest", Roles.Member, Ct);
        Assert.Equal(HttpStatusCode.OK, (await person.GetAsync("/api/identity/me", Ct)).StatusCode);

        var revoked = await users.ChangePasswordAsync(personId, Accounts.Password, "a brand new passphrase", Ct);

        Assert.Equal(1, revoked);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Bearer(personKey).GetAsync("/api/identity/me", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Bearer(serviceKey).GetAsync("/api/identity/me", Ct)).StatusCode);

        // A reset through an Admin's link is a password change too.
        var (_, secondKey) = await users.CreateKeyAsync(null, personId, "second", Roles.Member, Ct);
        var admin = await Accounts.CreateAsync(app, Roles.Admin);
        var (_, link) = await users.IssueResetAsync(admin.Id, personId, Ct);
        var browser = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        var accept = await browser.GetDocumentAsync(link);
        await browser.SubmitAsync(accept, "#accept", new Dictionary<string, string> { ["Password"] = "yet another passphrase", ["Confirm"] = "yet another passphrase" }, pageUrl: link);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Bearer(secondKey).GetAsync("/api/identity/me", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Bearer(serviceKey).GetAsync("/api/identity/me", Ct)).StatusCode);
    }
}
