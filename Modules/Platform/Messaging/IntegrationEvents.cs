using System.Reflection;
using System.Text.Json;
using BirbalAI.Contracts;

namespace BirbalAI.Platform.Messaging;

public static class IntegrationEvents
{
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static string WireName(Type eventType) =>
        eventType.GetCustomAttribute<IntegrationEventAttribute>()?.WireName
        ?? throw new InvalidOperationException($"{eventType.Name} has no [IntegrationEvent(\"module.event-name.v1\")] attribute.");

    public static string WireName<TEvent>() => WireName(typeof(TEvent));
}
