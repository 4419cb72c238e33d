using System.Diagnostics;
using System.Text.Json;
using BirbalAI.Platform.Configuration;
using BirbalAI.Platform.Database;
using BirbalAI.Platform.Health;
using BirbalAI.Platform.Jobs;
using BirbalAI.Platform.Messaging;
using BirbalAI.Platform.Web;
using Dapper;
using Hangfire;
using Hangfire.PostgreSql;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.HttpsPolicy;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using StackExchange.Redis;

namespace BirbalAI.Platform;

public static class PlatformModule
{
    /// <summary>Every ActivitySource and Meter of the product starts with this name (OpenTelemetry listens to "BirbalAI.*").</summary>
    public const string TelemetryName = "BirbalAI";

    static PostgreSqlStorageOptions HangfireStorageOptions => new()
    {
        SchemaName = "hangfire", PrepareSchemaIfNecessary = true,
        // Workers hear of a new job at once (LISTEN/NOTIFY) instead of polling the queue every 15 s.
        EnableLongPolling = true,
    };

    /// <summary>Configuration, data stores, messaging, Hangfire storage, problem details, OpenAPI, health, telemetry.</summary>
    public static HostRole AddPlatform(this WebApplicationBuilder builder)
    {
        var role = HostRole.Parse(builder.Configuration["role"]);
        var services = builder.Services;
        services.AddSingleton(role);
        DefaultTypeMap.MatchNamesWithUnderscores = true;

        // Secrets as one file per setting (Secrets__JwtSigningKey), the way container platforms mount them.
        if (builder.Configuration["SecretsDirectory"] is { Length: > 0 } secrets)
            builder.Configuration.AddKeyPerFile(Path.GetFullPath(secrets), optional: false, reloadOnChange: false);

        services.AddValidatedOptions<DatabaseOptions>(DatabaseOptions.Section);
        services.AddValidatedOptions<RedisOptions>(RedisOptions.Section);
        services.AddValidatedOptions<RabbitMqOptions>(RabbitMqOptions.Section);
        services.AddValidatedOptions<SecretsOptions>(SecretsOptions.Section)
            .PostConfigure<IHostEnvironment>((o, env) => o.IsDevelopment = env.IsDevelopment());
        builder.Configuration.GetValidated<ListenOptions>(ListenOptions.Section);   // a wrong address stops start-up with a clear line
        builder.WebHost.ConfigureKestrel((context, kestrel) =>
        {
            // Read when the server starts, from the final configuration (tests add theirs late).
            var listen = context.Configuration.GetValidated<ListenOptions>(ListenOptions.Section);
            var endpoints = new Dictionary<string, string?>();
            if (!role.ServesWeb) endpoints["Endpoints:Worker:Url"] = listen.Worker;
            else
            {
                endpoints["Endpoints:Web:Url"] = listen.Web;
                if (!string.IsNullOrEmpty(listen.Grpc))
                {
                    endpoints["Endpoints:Grpc:Url"] = listen.Grpc;
                    endpoints["Endpoints:Grpc:Protocols"] = "Http2";
                }
            }
            foreach (var name in endpoints.Keys.Where(k => k.EndsWith(":Url", StringComparison.Ordinal)).ToList())
            {
                if (!endpoints[name]!.StartsWith("https://", StringComparison.OrdinalIgnoreCase)) continue;
                var endpoint = name[..^":Url".Length];
                endpoints[$"{endpoint}:Certificate:Path"] = listen.CertificatePath;
                endpoints[$"{endpoint}:Certificate:KeyPath"] = listen.CertificateKeyPath;
                endpoints[$"{endpoint}:Certificate:Password"] = listen.CertificatePassword;
                // TLS negotiates the protocol (ALPN): pages, API and gRPC share the web port.
                endpoints.TryAdd($"{endpoint}:Protocols", "Http1AndHttp2");
            }
            kestrel.Configure(new ConfigurationBuilder().AddInMemoryCollection(endpoints).Build());
        });

        builder.Logging.Configure(o => o.ActivityTrackingOptions =
            ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId | ActivityTrackingOptions.ParentId);

        services.AddSingleton(sp => new NpgsqlDataSourceBuilder(sp.GetRequiredService<IOptions<DatabaseOptions>>().Value.ConnectionString)
            .UseLoggerFactory(sp.GetRequiredService<ILoggerFactory>())
            .Build());
        services.AddSingleton<IConnectionMultiplexer>(sp =>
        {
            var redis = ConfigurationOptions.Parse(sp.GetRequiredService<IOptions<RedisOptions>>().Value.ConnectionString);
            redis.AbortOnConnectFail = false;   // start even if Redis is briefly away; /readyz tells
            return ConnectionMultiplexer.Connect(redis);
        });
        services.AddSingleton<Broadcasts>();
        AddHubs(services);
        services.AddValidatedOptions<Blobs.BlobOptions>(Blobs.BlobOptions.Section);
        services.AddSingleton<Blobs.IBlobStore, Blobs.CachedBlobStore>();
        AddDocumentStore(services);
        services.AddSingleton<ContentEncryption>();
        services.AddSingleton<RabbitConnection>();
        services.AddSingleton<DeadLetters>();

        services.AddMigrations("platform", typeof(PlatformModule).Assembly);
        services.AddSingleton<Migrator>();
        services.AddCliVerb(new CliVerb("migrate", "migrate                  apply the database migrations and exit", async (sp, _, _, output) =>
        {
            var applied = await sp.GetRequiredService<Migrator>().MigrateAsync(CancellationToken.None);
            await output.WriteLineAsync(applied.Count == 0
                ? "migrate: the database is up to date"
                : $"migrate: applied {applied.Count}: {string.Join(", ", applied.Select(m => $"{m.Module}/{m.Version:0000}_{m.Name}"))}");
            return 0;
        }));
        DemoVerb.Add(services);
        Backup.Add(services);
        services.AddHostedService<MigrateOnStart>();
        services.AddHostedService<MessagingTopology>();
        services.AddValidatedOptions<Operations.OperationsOptions>(Operations.OperationsOptions.Section);
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<Operations.SystemStatus>();
        services.AddHostedService<Operations.SystemSampler>();
        services.AddValidatedOptions<Jobs.RetentionOptions>(Jobs.RetentionOptions.Section);
        services.AddHostedService<Jobs.RecurringJobSchedule>();
        services.AddRecurringJob<Jobs.PurgeMessagingJob>(Jobs.PurgeMessagingJob.Id, j => j.RunAsync(CancellationToken.None), Jobs.RetentionSchedule.Of);

        // The storage and the job activator are this app's own services: Hangfire's configuration also sets process-wide
        // statics (JobStorage.Current, JobActivator.Current), and where several apps share a process (the tests) the last
        // one configured would otherwise receive the others' jobs, or run them with a disposed app's services.
        services.AddSingleton<JobStorage>(sp =>
        {
            var options = HangfireStorageOptions;
            var connections = new Hangfire.PostgreSql.Factories.NpgsqlConnectionFactory(
                sp.GetRequiredService<IOptions<DatabaseOptions>>().Value.ConnectionString, options);
            return new PostgreSqlStorage(connections, options)
            {
                JobExpirationTimeout = TimeSpan.FromDays(sp.GetRequiredService<IOptions<RetentionOptions>>().Value.FinishedJobDays),
            };
        });
        services.AddSingleton<JobActivator>(sp => new Hangfire.AspNetCore.AspNetCoreJobActivator(sp.GetRequiredService<IServiceScopeFactory>()));
        services.AddHangfire((sp, hangfire) => hangfire
            .UseLogProvider(new HangfireLogs(sp.GetRequiredService<ILoggerFactory>()))
            .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
            .UseSimpleAssemblyNameTypeSerializer()
            .UseRecommendedSerializerSettings()
            .UseStorage(sp.GetRequiredService<JobStorage>()));

        services.AddRedisDataProtection();
        services.AddValidatedOptions<ApiLimitsOptions>(ApiLimitsOptions.Section);
        services.AddRateLimiter(o =>
        {
            o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            o.OnRejected = RateLimits.RejectAsync;
        });
        services.AddProblemDetails(o => o.CustomizeProblemDetails = c =>
            c.ProblemDetails.Extensions["traceId"] = Activity.Current?.TraceId.ToString() ?? c.HttpContext.TraceIdentifier);
        services.AddOpenApi(o =>
        {
            o.AddDocumentTransformer((document, _, _) =>
            {
                document.Info.Title = "Birbal AI";
                document.Info.Description = "Self-hosted content moderation. Every /api error is RFC 7807 problem details.";
                document.Servers?.Clear();   // clients call the host they fetched the document from
                return Task.CompletedTask;
            });
            // Slices nest their Request/Response records: name schemas "IssueTokenRequest", not "Request" twice.
            o.CreateSchemaReferenceId = type => type.Type.IsNested && type.Type.DeclaringType is { } outer
                ? outer.Name + type.Type.Name
                : Microsoft.AspNetCore.OpenApi.OpenApiOptions.CreateDefaultSchemaReferenceId(type);
        });
        services.AddAuthorization();
        services.AddSingleton<AdminNavigation>();
        services.AddAdminLink("API reference", "/swagger", policy: null, order: 900);
        services.AddAdminLink("Jobs", "/hangfire", BirbalAI.Contracts.Identity.Policies.Admin, order: 800);
        services.AddAdminLink("Dead letters", "/admin/platform/dead-letters", BirbalAI.Contracts.Identity.Policies.Admin, order: 810);
        services.AddAdminLink("System", "/admin/platform/system", BirbalAI.Contracts.Identity.Policies.Admin, order: 820);

        var health = services.AddHealthChecks()
            .AddCheck<PostgresReady>("postgres", tags: ["ready"])
            .AddCheck<RedisReady>("redis", tags: ["ready"])
            .AddCheck<RabbitMqReady>("rabbitmq", tags: ["ready"]);
        if (!string.IsNullOrWhiteSpace(builder.Configuration["Mongo:ConnectionString"]))
            health.AddCheck<MongoReady>("mongo", tags: ["ready"]);

        var otel = services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("birbal-ai", serviceInstanceId: $"{Environment.MachineName}-{role.Name}"))
            .WithTracing(t => t.AddSource($"{TelemetryName}.*").AddAspNetCoreInstrumentation().AddNpgsql())
            .WithMetrics(m => m.AddMeter($"{TelemetryName}.*").AddAspNetCoreInstrumentation().AddPrometheusExporter());
        if (!string.IsNullOrEmpty(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
            otel.UseOtlpExporter();

        services.AddOptions<HstsOptions>().Configure<IConfiguration>((o, configuration) =>
            o.MaxAge = TimeSpan.FromDays(configuration.GetValidated<ListenOptions>(ListenOptions.Section).HstsMaxAgeDays));
        services.AddValidatedOptions<ProxyOptions>(ProxyOptions.Section);
        services.AddSingleton<IStartupFilter, ErrorHandlingStartupFilter>();
        return role;
    }

    /// <summary>
    /// The document store: MongoDB when Mongo:ConnectionString is set (with its orphan sweeper), else PostgreSQL JSONB. Chosen
    /// from the final settings when first asked for; the client connects on first use, not when made.
    /// </summary>
    static void AddDocumentStore(IServiceCollection services)
    {
        services.AddValidatedOptions<Documents.MongoOptions>(Documents.MongoOptions.Section);
        services.AddSingleton<Documents.PostgresDocumentStore>();
        services.AddSingleton<MongoDB.Driver.IMongoClient>(sp => new MongoDB.Driver.MongoClient(sp.GetRequiredService<IOptions<Documents.MongoOptions>>().Value.ConnectionString));
        services.AddSingleton<Documents.MongoDocumentStore>();
        services.AddSingleton<Documents.IDocumentStore>(sp => sp.GetRequiredService<IOptions<Documents.MongoOptions>>().Value.Enabled
            ? sp.GetRequiredService<Documents.MongoDocumentStore>()
            : sp.GetRequiredService<Documents.PostgresDocumentStore>());
        services.AddRecurringJob<Jobs.SweepOrphanBodiesJob>(Jobs.SweepOrphanBodiesJob.Id, j => j.RunAsync(CancellationToken.None),
            sp => sp.GetRequiredService<IOptions<Documents.MongoOptions>>().Value.SweepSchedule,
            when: sp => sp.GetRequiredService<IOptions<Documents.MongoOptions>>().Value.Enabled, setting: "Mongo:SweepSchedule");
    }

    /// <summary>
    /// SignalR, once for every module's hub: the Redis backplane (live delivery reaches every replica) and the
    /// <see cref="Hubs.LiveConnections"/> filter (a connection acts only while its user is current).
    /// </summary>
    static void AddHubs(IServiceCollection services)
    {
        services.AddSingleton<Hubs.LiveConnections>();
        services.AddHostedService<Hubs.LiveConnectionsFollower>();
        // The backplane gets a connection of its own: it owns (and disposes) it, and its traffic never queues
        // behind the app's broadcasts and rate limits.
        services.AddSignalR(o => Microsoft.AspNetCore.SignalR.HubOptionsExtensions.AddFilter<Hubs.LiveConnections>(o)).AddStackExchangeRedis();
        services.AddOptions<Microsoft.AspNetCore.SignalR.StackExchangeRedis.RedisOptions>().Configure<IOptions<RedisOptions>>((o, platform) =>
        {
            o.Configuration = ConfigurationOptions.Parse(platform.Value.ConnectionString);
            o.Configuration.AbortOnConnectFail = false;
            // The backplane library was built for StackExchange.Redis 2 and its RESP2 pub/sub (a connection of its own
            // for subscriptions); with 3.x's RESP3 default, unsubscribing at shutdown could time out under load.
            o.Configuration.Protocol = RedisProtocol.Resp2;
            o.Configuration.ChannelPrefix = RedisChannel.Literal(platform.Value.KeyPrefix + "signalr");
        });
    }

    /// <summary>
    /// Maps a module's hub: members only, and the connection closes when its sign-in expires (a cookie's or a
    /// JWT's end), on top of the per-call check of <see cref="Hubs.LiveConnections"/>.
    /// </summary>
    public static HubEndpointConventionBuilder MapModuleHub<THub>(this Microsoft.AspNetCore.Routing.IEndpointRouteBuilder app, string pattern) where THub : Microsoft.AspNetCore.SignalR.Hub =>
        app.MapHub<THub>(pattern, o => o.CloseOnAuthenticationExpiration = true).RequireAuthorization(BirbalAI.Contracts.Identity.Policies.Member);

    public static IServiceCollection AddMigrations(this IServiceCollection services, string module, System.Reflection.Assembly assembly) =>
        services.AddSingleton(new MigrationSource(module, assembly));

    /// <summary>Health and metrics on every role; OpenAPI, Swagger UI and (in Development) the Hangfire dashboard on web roles.</summary>
    public static WebApplication MapPlatform(this WebApplication app)
    {
        var listen = app.Configuration.GetValidated<ListenOptions>(ListenOptions.Section);
        if (listen.UsesTls && listen.HstsMaxAgeDays > 0 && !app.Environment.IsDevelopment())
            app.UseHsts();
        app.MapHealthChecks("/healthz", new HealthCheckOptions { Predicate = _ => false }).AllowAnonymous();
        app.MapHealthChecks("/readyz", new HealthCheckOptions
        {
            Predicate = c => c.Tags.Contains("ready"),
            ResponseWriter = WriteHealthAsync,
        }).AllowAnonymous();
        app.MapPrometheusScrapingEndpoint("/metrics").AllowAnonymous();
        // A GET of an address nothing serves is a plain 404 (problem details under /api, the error page
        // elsewhere) for everyone, rather than a demand to sign in first. Only GET and HEAD: for other
        // methods the router's own answers (405, 415) must win over a catch-all.
        app.MapFallback(context =>
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        }).AllowAnonymous().WithMetadata(new Microsoft.AspNetCore.Routing.HttpMethodMetadata(["GET", "HEAD"]));

        if (!app.Services.GetRequiredService<HostRole>().ServesWeb) return app;

        app.MapOpenApi("/openapi/{documentName}.json").AllowAnonymous();
        app.UseSwaggerUI(ui =>
        {
            ui.RoutePrefix = "swagger";
            ui.SwaggerEndpoint("/openapi/v1.json", "Birbal AI v1");
            ui.DocumentTitle = "Birbal AI API";
        });
        // ASP.NET authorization (the Admin policy) guards the dashboard, not Hangfire's local-only filter.
        app.MapHangfireDashboard("/hangfire", new DashboardOptions { Authorization = [], AppPath = "/", DashboardTitle = "Birbal AI jobs" })
            .RequireAuthorization(BirbalAI.Contracts.Identity.Policies.Admin);
        return app;
    }

    /// <summary>
    /// Requests that must be answered for everyone even though nothing declared so, or a fallback policy of
    /// "authenticated" would turn the answer into a demand to sign in: no endpoint at all (nothing is
    /// served there: 404), the router's own 405 and 415 answers, and the static-assets fallback for file paths.
    /// </summary>
    public static bool AnswersEveryone(HttpContext context) => context.GetEndpoint() switch
    {
        null => true,
        { DisplayName: ['4', '0' or '1', '5', ' ', ..], Metadata.Count: 0 } => true,
        { DisplayName: { } name } => name.StartsWith("Fallback ", StringComparison.Ordinal) && name.EndsWith(":file}", StringComparison.Ordinal),
        _ => false,
    };

    static Task WriteHealthAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(JsonSerializer.Serialize(new
        {
            status = report.Status.ToString(),
            checks = report.Entries.ToDictionary(e => e.Key, e => new { status = e.Value.Status.ToString(), e.Value.Description }),
        }, new JsonSerializerOptions(JsonSerializerDefaults.Web)));
    }

    sealed class MigrateOnStart(Migrator migrator, IOptions<DatabaseOptions> options) : IHostedService
    {
        public Task StartAsync(CancellationToken ct) => options.Value.MigrateOnStart ? migrator.MigrateAsync(ct) : migrator.EnsureUpToDateAsync(ct);
        public Task StopAsync(CancellationToken ct) => Task.CompletedTask;
    }
}
