using System.Net;
using System.Text;
using BirbalAI.Contracts.Identity;
using BirbalAI.Testing;
using RabbitMQ.Client;

namespace BirbalAI.IntegrationTests.Messaging;

/// <summary>Admins see parked messages with their reason and send them back to their queue.</summary>
public sealed class DeadLetterTests(App app) : IClassFixture<App>
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    async Task<IConnection> RabbitAsync() => await new ConnectionFactory { Uri = new Uri(TestServers.RabbitMq) }.CreateConnectionAsync(Ct);

    async Task ParkAsync(IChannel channel, string id, string reason, string queue)
    {
        await channel.BasicPublishAsync("", $"{app.Prefix}.dead-letters", mandatory: false, new BasicProperties
        {
            MessageId = id, Type = "sample.thing-happened.v1",
            Headers = new Dictionary<string, object?> { ["x-birbal-reason"] = reason, ["x-birbal-queue"] = queue, ["x-birbal-attempt"] = 5 },
        }, Encoding.UTF8.GetBytes("{\"note\":\"" + id + "\"}"), Ct);
    }

    /// <summary>The parked messages of the first test (the class shares one app and so one queue).</summary>
    static string?[] Parked(AngleSharp.Html.Dom.IHtmlDocument page) => page.QuerySelectorAll("#letters tbody tr")
        .Select(r => r.GetAttribute("data-message")).Where(id => id is "first-id" or "second-id").ToArray();

    [Fact]
    public async Task A_parked_message_is_listed_with_its_reason_and_requeued_to_its_queue()
    {
        var admin = await Accounts.SignedInAsync(app, Roles.Admin);
        _ = await admin.GetAsync("/", Ct);   // the app has declared its topology
        await using var rabbit = await RabbitAsync();
        await using var channel = await rabbit.CreateChannelAsync(cancellationToken: Ct);
        var queue = $"{app.Prefix}.sample";
        await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false, cancellationToken: Ct);
        await ParkAsync(channel, "first-id", "sample.Handler failed on attempt 5: boom", queue);
        await ParkAsync(channel, "second-id", "the payload is not a valid ThingHappened", queue);

        var page = await admin.GetDocumentAsync("/admin/platform/dead-letters");
        Assert.Equal(["first-id", "second-id"], Parked(page));
        Assert.Contains("boom", page.QuerySelector("tr[data-message='first-id']")!.TextContent);

        var requeued = await admin.SubmitAsync(page, "tr[data-message='first-id'] form", pageUrl: "/admin/platform/dead-letters");

        Assert.Equal(HttpStatusCode.OK, requeued.StatusCode);
        var after = await HtmlForms.ParseAsync(requeued);
        Assert.Contains("first-id is back in its queue", after.QuerySelector("[role=status]")!.TextContent);
        Assert.Equal(["second-id"], Parked(after));
        var back = await channel.BasicGetAsync(queue, autoAck: true, Ct);
        Assert.Equal("first-id", back!.BasicProperties.MessageId);
        Assert.Equal(1, back.BasicProperties.Headers!["x-birbal-attempt"]);
        Assert.False(back.BasicProperties.Headers.ContainsKey("x-birbal-reason"));
        var audit = await admin.GetDocumentAsync("/admin/identity/audit?Kind=platform.dead-letter-requeued");
        Assert.Contains("first-id", audit.QuerySelector("#audit tbody")!.TextContent);

        var again = await admin.SubmitAsync(page, "tr[data-message='first-id'] form", pageUrl: "/admin/platform/dead-letters");
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
        Assert.Contains("not parked any more", await again.Content.ReadAsStringAsync(Ct));
    }

    [Fact]
    public async Task A_message_whose_queue_is_gone_stays_parked()
    {
        var admin = await Accounts.SignedInAsync(app, Roles.Admin);
        await using var rabbit = await RabbitAsync();
        await using var channel = await rabbit.CreateChannelAsync(cancellationToken: Ct);
        await ParkAsync(channel, "orphan-id", "handler failed", $"{app.Prefix}.no-such-module");
        var page = await admin.GetDocumentAsync("/admin/platform/dead-letters");

        var response = await admin.SubmitAsync(page, "tr[data-message='orphan-id'] form", pageUrl: "/admin/platform/dead-letters");

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        var after = await HtmlForms.ParseAsync(response);
        Assert.Contains("no longer exists", after.QuerySelector("[role=alert]")!.TextContent);
        Assert.Contains(after.QuerySelectorAll("#letters tbody tr"), r => r.GetAttribute("data-message") == "orphan-id");
    }
}
