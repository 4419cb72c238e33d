using System.Net;
using System.Net.Mail;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace BirbalAI.Identity.Invitations;

/// <summary>Mails an invitation or reset link when Identity:Smtp:Host is set; otherwise the Admin is shown the link.</summary>
sealed class InvitationMail(IOptions<IdentityOptions> options, ILogger<InvitationMail> logger)
{
    public bool IsConfigured => !string.IsNullOrWhiteSpace(options.Value.Smtp.Host) && !string.IsNullOrWhiteSpace(options.Value.PublicUrl);

    /// <returns>True when the mail was handed to the server.</returns>
    public async Task<bool> TrySendAsync(string email, string kind, string relativeLink, CancellationToken ct)
    {
        if (!IsConfigured) return false;
        var o = options.Value;
        var link = new Uri(new Uri(o.PublicUrl!), relativeLink);
        using var message = new MailMessage(o.Smtp.From ?? $"birbal@{new Uri(o.PublicUrl!).Host}", email)
        {
            Subject = kind == "invite" ? "You are invited to Birbal AI" : "Reset your Birbal AI password",
            Body = $"Open this link to set your password (it works once, for {o.InvitationHours} hours):\n\n{link}\n",
        };
        using var client = new SmtpClient(o.Smtp.Host, o.Smtp.Port) { EnableSsl = o.Smtp.EnableSsl };
        if (o.Smtp.UserName is not null) client.Credentials = new NetworkCredential(o.Smtp.UserName, o.Smtp.Password);
        try
        {
            await client.SendMailAsync(message, ct);
            return true;
        }
        catch (SmtpException e)
        {
            logger.LogWarning(e, "Could not mail the {Kind} link to {Email}; showing it to the Admin instead", kind, email);
            return false;
        }
    }
}
