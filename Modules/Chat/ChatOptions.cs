using System.ComponentModel.DataAnnotations;

namespace BirbalAI.Chat;

/// <summary>Chat's limits (section "Chat"), checked at start-up.</summary>
sealed class ChatOptions
{
    public const string Section = "Chat";

    /// <summary>Characters in one message (its Markdown source).</summary>
    [Range(1, 100_000)] public int MaxMessageLength { get; set; } = 4000;

    /// <summary>Characters in a room name.</summary>
    [Range(1, 500)] public int MaxRoomNameLength { get; set; } = 80;

    /// <summary>Messages (new or edited) one person may send per window, API and pages together, counted in Redis; then 429.</summary>
    [Range(1, 100_000)] public int SendLimit { get; set; } = 20;

    [Range(1, 3600)] public int SendWindowSeconds { get; set; } = 60;

    /// <summary>Messages per page of history.</summary>
    [Range(1, 500)] public int PageSize { get; set; } = 50;
}
