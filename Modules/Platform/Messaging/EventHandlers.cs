using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace BirbalAI.Platform.Messaging;

/// <summary>
/// Reacts to another module's integration event. It runs inside <see cref="MessageContext.Transaction"/>,
/// which also records the message in the inbox: its writes and "handled" commit together, so a
/// redelivered message is handled once.
/// </summary>
public interface IIntegrationEventHandler<in TEvent> where TEvent : class
{
    Task HandleAsync(TEvent evt, MessageContext context, CancellationToken ct);
}

public sealed record MessageContext(Guid MessageId, int Attempt, NpgsqlConnection Connection, NpgsqlTransaction Transaction)
{
    readonly List<Func<CancellationToken, Task>> afterCommit = [];

    /// <summary>
    /// Work to do once the handler's transaction has committed (a live notification of what it changed); never for one
    /// that rolls back or for a redelivery the inbox skips. A failure there is logged: the change itself stands.
    /// </summary>
    public void AfterCommit(Func<CancellationToken, Task> work) => afterCommit.Add(work);

    /// <summary>Runs what <see cref="AfterCommit"/> queued, in order (the consumer host calls it after the commit).</summary>
    public async Task RunAfterCommitAsync(CancellationToken ct)
    {
        foreach (var work in afterCommit) await work(ct);
    }
}

/// <summary>One module's handler of one event; the handler name is its identity in the inbox.</summary>
public sealed class EventSubscription(
    string module, string wireName, Type eventType, Type handlerType,
    Func<IServiceProvider, object, MessageContext, CancellationToken, Task> invoke)
{
    public string Module => module;
    public string WireName => wireName;
    public Type EventType => eventType;
    public string HandlerName => $"{module}.{handlerType.Name}";

    internal Task InvokeAsync(IServiceProvider services, object evt, MessageContext context, CancellationToken ct) =>
        invoke(services, evt, context, ct);
}

public static class EventHandlerRegistration
{
    /// <summary>
    /// Subscribes <paramref name="module"/>'s queue to <typeparamref name="TEvent"/>. Subscriptions are
    /// registered explicitly, one line each, in the module's Add…Module — never found by scanning.
    /// </summary>
    public static IServiceCollection AddEventHandler<TEvent, THandler>(this IServiceCollection services, string module)
        where TEvent : class
        where THandler : class, IIntegrationEventHandler<TEvent>
    {
        services.AddScoped<THandler>();
        services.AddSingleton(new EventSubscription(module, IntegrationEvents.WireName<TEvent>(), typeof(TEvent), typeof(THandler),
            (sp, evt, context, ct) => sp.GetRequiredService<THandler>().HandleAsync((TEvent)evt, context, ct)));
        return services;
    }
}
