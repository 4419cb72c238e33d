namespace BirbalAI.Contracts.Chat;

/// <summary>A room someone belongs to: its id and name.</summary>
public sealed record RoomMembership(Guid RoomId, string Name);

/// <summary>Who belongs to which room, for modules that share things with a room (Documents). Chat owns the memberships.</summary>
public interface IChatMembership
{
    /// <summary>The rooms <paramref name="userId"/> is a member of today, by name.</summary>
    Task<IReadOnlyList<RoomMembership>> RoomsOfAsync(Guid userId, CancellationToken ct);
}
