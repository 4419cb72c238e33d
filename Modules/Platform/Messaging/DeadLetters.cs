using System.Text;
using RabbitMQ.Client;

namespace BirbalAI.Platform.Messaging;

/// <summary>A message parked in the dead-letter queue, with why and where it came from.</summary>
public sealed record DeadLetter(string MessageId, string WireName, string Queue, string Reason, string Payload);

/// <summary>
/// What admins see of the dead-letter queue, and the way back: a requeued message goes to the queue it
/// came from with its tries counted afresh (after the cause is fixed, say a handler's bug).
/// </summary>
public sealed class DeadLetters(RabbitConnection rabbit)
{
    public const int MaxShown = 100;

    /// <summary>When the consumer host parked the message (Unix seconds), for retention.</summary>
    public const string ParkedAtHeader = "x-birbal-parked-at";

    /// <summary>When a message was parked; for one parked before the header existed, when it was first published; null if neither is known.</summary>
    public static DateTimeOffset? ParkedAt(IReadOnlyBasicProperties properties) =>
        properties.Headers?.TryGetValue(ParkedAtHeader, out var value) == true && value is long or int
            ? DateTimeOffset.FromUnixTimeSeconds(Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture))
            : properties.IsTimestampPresent() && properties.Timestamp.UnixTime > 0 ? DateTimeOffset.FromUnixTimeSeconds(properties.Timestamp.UnixTime) : null;

    /// <summary>Up to <paramref name="max"/> parked messages, oldest first; they stay parked.</summary>
    public async Task<IReadOnlyList<DeadLetter>> PeekAsync(int max, CancellationToken ct)
    {
        // Fetched without acknowledging; closing the channel puts every one back where it was.
        await using var channel = await (await rabbit.GetAsync(ct)).CreateChannelAsync(cancellationToken: ct);
        var letters = new List<DeadLetter>();
        while (letters.Count < max && await channel.BasicGetAsync(rabbit.Options.DeadLetterQueue, autoAck: false, ct) is { } message)
            letters.Add(Read(message));
        await channel.CloseAsync(ct);
        return letters;
    }

    /// <summary>Moves the parked message <paramref name="messageId"/> back to its queue; false if it is not parked.</summary>
    /// <exception cref="InvalidOperationException">Its queue no longer exists (the message stays parked).</exception>
    public async Task<bool> RequeueAsync(string messageId, CancellationToken ct)
    {
        await using var channel = await rabbit.CreateConfirmingChannelAsync(ct);
        var found = false;
        while (!found && await channel.BasicGetAsync(rabbit.Options.DeadLetterQueue, autoAck: false, ct) is { } message)
        {
            var letter = Read(message);
            if (letter.MessageId != messageId || letter.Queue.Length == 0) continue;
            // A message published to a queue that is gone would be dropped: it stays parked instead.
            if (!await QueueExistsAsync(letter.Queue, ct))
                throw new InvalidOperationException($"its queue {letter.Queue} no longer exists; it stays parked");
            var headers = new Dictionary<string, object?>(message.BasicProperties.Headers ?? new Dictionary<string, object?>());
            headers.Remove("x-birbal-reason");
            headers.Remove("x-birbal-queue");
            headers["x-birbal-attempt"] = 1;
            var properties = new BasicProperties(message.BasicProperties) { Headers = headers };
            await channel.BasicPublishAsync("", letter.Queue, mandatory: true, properties, message.Body, ct);
            await channel.BasicAckAsync(message.DeliveryTag, multiple: false, ct);
            found = true;
        }
        await channel.CloseAsync(ct);   // the others go back, unacknowledged
        return found;
    }

    async Task<bool> QueueExistsAsync(string queue, CancellationToken ct)
    {
        // A passive declare of a missing queue closes its channel: use a channel of its own.
        await using var probe = await (await rabbit.GetAsync(ct)).CreateChannelAsync(cancellationToken: ct);
        try
        {
            await probe.QueueDeclarePassiveAsync(queue, ct);
            return true;
        }
        catch (RabbitMQ.Client.Exceptions.OperationInterruptedException)
        {
            return false;
        }
    }

    static DeadLetter Read(BasicGetResult message)
    {
        string Header(string key) => message.BasicProperties.Headers?.TryGetValue(key, out var value) == true && value is byte[] bytes
            ? Encoding.UTF8.GetString(bytes) : "";
        var body = Encoding.UTF8.GetString(message.Body.Span);
        return new DeadLetter(message.BasicProperties.MessageId ?? "", message.BasicProperties.Type ?? "", Header("x-birbal-queue"),
            Header("x-birbal-reason"), body.Length > 2000 ? body[..2000] + "…" : body);
    }
}
