using BirbalAI.Chat.Filters;
using BirbalAI.Chat.Messages;
using BirbalAI.Chat.Rooms;
using BirbalAI.Contracts.Identity;
using BirbalAI.Platform;
using BirbalAI.Platform.Configuration;
using BirbalAI.Platform.Web;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using PlatformRedis = BirbalAI.Platform.Messaging.RedisOptions;
using SignalRRedis = Microsoft.AspNetCore.SignalR.StackExchangeRedis.RedisOptions;

namespace BirbalAI.Chat;

public static class ChatModule
{
    public static IServiceCollection AddChatModule(this IServiceCollection services)
    {
        services.AddValidatedOptions<ChatOptions>(ChatOptions.Section);
        services.AddMigrations("chat", typeof(ChatModule).Assembly);
        services.AddValidation();
        services.AddSingleton<MarkdownRenderer>();
        services.AddSingleton<ChatMessages>();

        // Live delivery reaches every replica through Redis. The backplane gets a connection of its own: it owns
        // (and disposes) it, and its traffic never queues behind the app's broadcasts and rate limits.
        services.AddSignalR().AddStackExchangeRedis();
        services.AddOptions<SignalRRedis>().Configure<IOptions<PlatformRedis>>((o, platform) =>
        {
            o.Configuration = ConfigurationOptions.Parse(platform.Value.ConnectionString);
            o.Configuration.AbortOnConnectFail = false;
            // The backplane library was built for StackExchange.Redis 2 and its RESP2 pub/sub (a connection of its own
            // for subscriptions); with 3.x's RESP3 default, unsubscribing at shutdown could time out under load.
            o.Configuration.Protocol = RedisProtocol.Resp2;
            o.Configuration.ChannelPrefix = RedisChannel.Literal(platform.Value.KeyPrefix + "signalr");
        });

        services.AddAdminLink("Chat", "/chat", Policies.Member, order: 10);
        return services;
    }

    public static WebApplication MapChatModule(this WebApplication app)
    {
        var chat = app.MapGroup("/api/chat").WithTags("Chat").RequireAuthorization(Policies.Member);
        var rooms = chat.MapGroup("/rooms");
        var messages = chat.MapGroup("/messages");
        RoomsApi.Map(rooms);
        MessagesApi.Map(rooms, messages);
        ReviewApi.Map(chat);
        ContentFilters.Map(chat);
        app.MapHub<ChatHub>("/hubs/chat").RequireAuthorization(Policies.Member);
        return app;
    }
}
