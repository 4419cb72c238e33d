using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using BirbalAI.Contracts.Identity;
using BirbalAI.Testing;
using Dapper;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace BirbalAI.IntegrationTests.Operations;

/// <summary>
/// Canary values — a password, a wrong password, an API key, a made-up key, a JWT, the configured secrets and a message
/// body — go through real requests (sign-in, the token endpoint, the API, a held chat message through the outbox, RabbitMQ
/// and a consumer, a moderation check, a refused oversized text); none of them appears anywhere in what the app logged at Debug.
/// </summary>
public sealed class LogCanaryTests : IAsyncLifetime
{
    readonly App app = new();
    readonly CapturedLogs logs = new();
    static CancellationToken Ct => TestContext.Current.CancellationToken;
    static readonly string Canary = $"zqcanary{Guid.NewGuid():N}";

    public async ValueTask InitializeAsync()
    {
        await app.InitializeAsync();
        app.WithStarterModel()
            .With("Logging:LogLevel:Default", "Debug").With("Logging:LogLevel:Microsoft.AspNetCore", "Debug")
            .With("Logging:LogLevel:Hangfire", "Debug").With("Logging:LogLevel:Npgsql", "Debug")
            .WithServices(services => services.AddSingleton<ILoggerProvider>(logs));
        await StarterModels.HoldNeverRejectAsync(app);
    }

    public ValueTask DisposeAsync() => app.DisposeAsync();

    [Fact]
    public async Task No_password_key_token_secret_or_message_body_is_ever_logged()
    {
        var password = $"Password-{Canary}";
        var wrongPassword = $"Wrong-{Canary}";
        var email = $"canary-{Guid.NewGuid():N}"[..20] + "@example.org";
        var (userId, _) = await Accounts.CreateAsync(app, Roles.Member, email);
        await SetPasswordAsync(userId, password);
        var body = $"{StarterModels.Threat} {Canary}body";

        var page = await Accounts.SignInAsync(app, email, password);
        var refused = await app.CreateClient().PostAsJsonAsync("/api/auth/token", new { email, password = wrongPassword }, Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        var issued = await app.CreateClient().PostAsJsonAsync("/api/auth/token", new { email, password }, Ct);
        var token = (await issued.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("access_token").GetString()!;
        var viaToken = Bearer(token);
        Assert.Equal(HttpStatusCode.OK, (await viaToken.GetAsync("/api/identity/me", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Bearer(token[..^4] + "AAAA").GetAsync("/api/identity/me", Ct)).StatusCode);
        var (viaKey, key, _) = await Accounts.WithApiKeyAsync(app, Roles.Member);
        var madeUpKey = $"bk_{Canary}key";
        Assert.Equal(HttpStatusCode.Unauthorized, (await Bearer(madeUpKey).GetAsync("/api/identity/me", Ct)).StatusCode);

        var room = await viaKey.PostAsJsonAsync("/api/chat/rooms", new { name = "canary", isPrivate = true }, Ct);
        var roomId = (await room.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetGuid();
        var posted = await viaKey.PostAsJsonAsync($"/api/chat/rooms/{roomId}/messages", new { text = body }, Ct);
        Assert.Equal("held", (await posted.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.OK, (await viaToken.PostAsJsonAsync("/api/moderation/check", new { text = body }, Ct)).StatusCode);
        var oversized = await viaKey.PostAsJsonAsync("/api/moderation/check", new { text = string.Concat(Enumerable.Repeat(body + " ", 20_000)) }, Ct);
        Assert.True((int)oversized.StatusCode is 400 or 413, $"an oversized text is refused ({(int)oversized.StatusCode})");
        var broken = await viaKey.PostAsync($"/api/chat/rooms/{roomId}/messages",
            new StringContent($"{{\"text\": \"{Canary}broken", Encoding.UTF8, "application/json"), Ct);
        Assert.Equal(HttpStatusCode.BadRequest, broken.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await page.GetAsync("/chat", Ct)).StatusCode);
        await Eventually.TrueAsync(HandledByAnnotationAsync, "the annotation module handled the held message");

        var secrets = new[] { "Secrets:JwtSigningKey", "Secrets:EncryptionKey" }
            .Select(s => app.Services.GetRequiredService<Microsoft.Extensions.Configuration.IConfiguration>()[s]!).ToArray();
        var everything = logs.Text();
        Assert.True(logs.Count > 100, $"the run logged ({logs.Count} entries)");
        Assert.Contains("/api/chat/rooms", everything);   // requests were logged, and are scanned
        foreach (var (what, value) in new[] { ("password", password), ("wrong password", wrongPassword), ("API key", key), ("made-up key", madeUpKey),
                     ("JWT", token), ("JWT signature", token.Split('.')[2]), ("message body", Canary), ("signing key", secrets[0]), ("encryption key", secrets[1]) })
            Assert.False(everything.Contains(value, StringComparison.OrdinalIgnoreCase), $"the {what} was logged:\n{logs.Around(value)}");
        Assert.DoesNotContain(key[..12], everything);   // not even the key's secret part cut short
    }

    HttpClient Bearer(string credential)
    {
        var client = app.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", credential);
        return client;
    }

    async Task SetPasswordAsync(Guid userId, string password)
    {
        var hash = app.Services.GetRequiredService<IPasswordHasher<BirbalAI.Identity.Users.UserRow>>().HashPassword(null!, password);
        await using var connection = await app.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync(Ct);
        await connection.ExecuteAsync("update identity.users set password_hash = @hash where id = @userId", new { hash, userId });
    }

    async Task<bool> HandledByAnnotationAsync()
    {
        await using var connection = await app.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync(Ct);
        return await connection.ExecuteScalarAsync<bool>("select exists (select 1 from platform.inbox where handler = 'annotation.MessageHeldHandler')");
    }

    /// <summary>Everything logged: each entry's message, its structured values, its scopes and its exception.</summary>
    sealed class CapturedLogs : ILoggerProvider, ISupportExternalScope
    {
        readonly ConcurrentQueue<string> entries = new();
        IExternalScopeProvider scopes = new LoggerExternalScopeProvider();

        public int Count => entries.Count;
        public string Text() => string.Join('\n', entries);
        public string Around(string value) => string.Join('\n', entries.Where(e => e.Contains(value, StringComparison.OrdinalIgnoreCase)).Take(3));

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);
        public void SetScopeProvider(IExternalScopeProvider scopeProvider) => scopes = scopeProvider;
        public void Dispose() { }

        sealed class Logger(CapturedLogs owner, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => owner.scopes.Push(state);
            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                var entry = new StringBuilder($"{logLevel} {category}: {formatter(state, exception)}");
                if (state is IEnumerable<KeyValuePair<string, object?>> values)
                    foreach (var (k, v) in values) entry.Append($" | {k}={v}");
                owner.scopes.ForEachScope((scope, text) =>
                {
                    text.Append(" | scope ").Append(scope);
                    if (scope is IEnumerable<KeyValuePair<string, object?>> pairs)
                        foreach (var (k, v) in pairs) text.Append($" {k}={v}");
                }, entry);
                if (exception is not null) entry.Append('\n').Append(exception);
                owner.entries.Enqueue(entry.ToString());
            }
        }
    }
}
