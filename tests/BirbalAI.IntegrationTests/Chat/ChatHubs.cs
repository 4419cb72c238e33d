using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;

namespace BirbalAI.IntegrationTests.Chat;

/// <summary>A non-browser client of an app's chat hub, or another module's at <c>path</c> (in memory, long polling), not started yet.</summary>
public static class ChatHubs
{
    /// <param name="bearer">An API key or JWT, in the Authorization header (or as ?access_token= when <paramref name="asQuery"/>); null for none.</param>
    public static HubConnection Connect(App app, string? bearer, bool asQuery = false, string path = "/hubs/chat") =>
        new HubConnectionBuilder().WithUrl(new Uri(app.Server.BaseAddress, path), o =>
        {
            o.HttpMessageHandlerFactory = _ => app.Server.CreateHandler();
            o.Transports = HttpTransportType.LongPolling;
            if (bearer is null) return;
            if (asQuery) o.AccessTokenProvider = () => Task.FromResult<string?>(bearer);
            else o.Headers["Authorization"] = $"Bearer {bearer}";
        }).Build();
}
