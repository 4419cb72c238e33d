using BirbalAI.Chat.Filters;
using BirbalAI.Chat.Handlers;
using BirbalAI.Chat.Messages;
using BirbalAI.Chat.Rooms;
using BirbalAI.Contracts.Annotation;
using BirbalAI.Contracts.Chat;
using BirbalAI.Contracts.Identity;
using BirbalAI.Platform;
using BirbalAI.Platform.Configuration;
using BirbalAI.Platform.Messaging;
using BirbalAI.Platform.Web;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

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
        services.AddSingleton<IDemoContent, DemoRooms>();
        services.AddSingleton<IChatReviewSource, ChatReviewSource>();
        services.AddSingleton<IChatMembership, ChatMembership>();
        services.AddEventHandler<ContentDecided, ContentDecidedHandler>("chat");
        services.AddSingleton<IChatContentSource, ChatContentSource>();
        services.AddEventHandler<BirbalAI.Contracts.Ml.VerdictsRevised, VerdictsRevisedHandler>("chat");


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
        app.MapModuleHub<ChatHub>("/hubs/chat");
        return app;
    }
}
