using System.ComponentModel.DataAnnotations;

namespace BirbalAI.Identity;

sealed class IdentityOptions
{
    public const string Section = "Identity";

    /// <summary>Failed sign-ins in a row before the account locks, and for how long.</summary>
    [Range(1, 100)] public int MaxFailedSignIns { get; set; } = 5;
    [Range(1, 24 * 60)] public int LockoutMinutes { get; set; } = 15;

    [Range(8, 128)] public int MinPasswordLength { get; set; } = 10;

    /// <summary>Lifetime of an invitation or reset link.</summary>
    [Range(1, 24 * 30)] public int InvitationHours { get; set; } = 72;

    /// <summary>Lifetime of a JWT from POST /api/auth/token.</summary>
    [Range(1, 24 * 60)] public int TokenMinutes { get; set; } = 60;

    /// <summary>Sign-in attempts per client IP, and per account, in one window.</summary>
    [Range(1, 10_000)] public int SignInPerIpLimit { get; set; } = 20;
    [Range(1, 10_000)] public int SignInPerAccountLimit { get; set; } = 10;
    [Range(1, 3600)] public int SignInWindowSeconds { get; set; } = 60;

    /// <summary>API requests per key (or user, or IP when anonymous) in one window.</summary>
    [Range(1, 1_000_000)] public int ApiPerClientLimit { get; set; } = 600;
    [Range(1, 3600)] public int ApiWindowSeconds { get; set; } = 60;

    /// <summary>Days an audit entry is kept; older ones are removed by the recurring job identity.purge-audit (on Retention:Schedule).</summary>
    [Range(1, 36_500)] public int AuditRetentionDays { get; set; } = 365;

    /// <summary>Invitation mail; without a host the link is shown to the Admin instead.</summary>
    public SmtpOptions Smtp { get; set; } = new();

    /// <summary>The address people use to reach this site, for links in mail ("https://moderation.example.org").</summary>
    [Url] public string? PublicUrl { get; set; }
}

sealed class SmtpOptions
{
    public string? Host { get; set; }
    [Range(1, 65535)] public int Port { get; set; } = 587;
    public bool EnableSsl { get; set; } = true;
    public string? UserName { get; set; }
    public string? Password { get; set; }
    [EmailAddress] public string? From { get; set; }
}
