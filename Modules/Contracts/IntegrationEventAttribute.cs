namespace BirbalAI.Contracts;

/// <summary>
/// Marks a record as an integration event and gives its stable wire name ("chat.message-held.v1").
/// Queues bind to the wire name, never to the CLR name, so renaming a class strands no message.
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class IntegrationEventAttribute(string wireName) : Attribute
{
    public string WireName { get; } = wireName;
}
