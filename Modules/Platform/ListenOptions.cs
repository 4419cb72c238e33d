using System.ComponentModel.DataAnnotations;

namespace BirbalAI.Platform;

/// <summary>Where each role listens, so a web and a worker process run side by side on one machine.</summary>
public sealed class ListenOptions
{
    public const string Section = "Listen";

    /// <summary>Pages, REST API and health of a web or all process.</summary>
    [Required, Url] public string Web { get; set; } = "http://127.0.0.1:5080";

    /// <summary>Health and metrics of a worker process.</summary>
    [Required, Url] public string Worker { get; set; } = "http://127.0.0.1:5082";
}
