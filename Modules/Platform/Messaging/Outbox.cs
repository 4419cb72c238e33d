using System.Diagnostics;
using System.Text.Json;
using Dapper;
using Npgsql;

namespace BirbalAI.Platform.Messaging;

/// <summary>
/// Writes an integration event in the caller's transaction: it is published if and only if the change
/// that raised it commits. The relay (Workers) publishes it with publisher confirms.
/// </summary>
public static class Outbox
{
    public const string NotifyChannel = "platform_outbox";

    public static async Task<Guid> AddAsync<TEvent>(NpgsqlConnection connection, NpgsqlTransaction tx, TEvent evt, CancellationToken ct)
        where TEvent : class
    {
        var id = Guid.CreateVersion7();
        var headers = new Dictionary<string, string>();
        // W3C trace context of the change, so the consumer's work joins the same trace.
        if (Activity.Current is { } activity)
        {
            headers["traceparent"] = activity.Id!;
            if (activity.TraceStateString is { } state) headers["tracestate"] = state;
        }
        await connection.ExecuteAsync(new CommandDefinition(InsertSql, new
        {
            id,
            WireName = IntegrationEvents.WireName<TEvent>(),
            Payload = JsonSerializer.Serialize(evt, IntegrationEvents.Json),
            Headers = JsonSerializer.Serialize(headers),
        }, tx, cancellationToken: ct));
        return id;
    }

    const string InsertSql = $"""
        insert into platform.outbox (id, wire_name, payload, headers) values (@Id, @WireName, @Payload::jsonb, @Headers::jsonb);
        select pg_notify('{NotifyChannel}', '');
        """;
}
