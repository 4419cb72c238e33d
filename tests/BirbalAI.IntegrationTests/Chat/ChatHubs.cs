using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;

namespace BirbalAI.IntegrationTests.Chat;

/// <summary>A non-browser client of an app's chat hub (in memory, long polling), not started yet.</summary>
public static class ChatHubs
{
    /// <param name="bearer">An API key or JWT, in the Authorization header (or as ?access_token= when <paramref name="asQuery"/>); null for none.</param>
    public static HubConnection Connect(App app, string? bearer, bool asQuery = false) =>
        new HubConnectionBuilder().WithUrl(new Uri(app.Server.BaseAddress, "/hubs/chat"), o =>
        {
            o.HttpMessageHandlerFactory = _ => app.Server.CreateHandler();
            o.Transports = HttpTransportType.LongPolling;
            if (bearer is null) return;
            if (asQuery) o.AccessTokenProvider = () => Task.FromResult<string?>(bearer);
            else o.Headers["Authorization"] = $"Bearer {bearer}";
        }).Build();
}
