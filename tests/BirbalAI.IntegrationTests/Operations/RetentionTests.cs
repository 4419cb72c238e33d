using System.ComponentModel.DataAnnotations;
using System.Text;
using BirbalAI.Platform.Jobs;
using BirbalAI.Platform.Messaging;
using BirbalAI.Testing;
using Dapper;
using Hangfire;
using Hangfire.Storage;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using RabbitMQ.Client;

namespace BirbalAI.IntegrationTests.Operations;

/// <summary>The recurring purge jobs, run by Hangfire on the real database and broker: what is past its limit goes, the rest stays.</summary>
public sealed class RetentionTests : IAsyncLifetime
{
    readonly App app = new();
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        await app.InitializeAsync();
        app.With("Retention:PublishedOutboxDays", "7").With("Retention:InboxDays", "30").With("Retention:DeadLetterDays", "20")
            .With("Retention:FinishedJobDays", "3").With("Retention:Schedule", "0 4 * * 1").With("Identity:AuditRetentionDays", "90");
    }

    public ValueTask DisposeAsync() => app.DisposeAsync();

    NpgsqlDataSource Db => app.Services.GetRequiredService<NpgsqlDataSource>();

    async Task<long> CountAsync(string sql)
    {
        await using var connection = await Db.OpenConnectionAsync(Ct);
        return await connection.ExecuteScalarAsync<long>(sql);
    }

    [Fact]
    public async Task Purge_jobs_remove_only_what_is_past_its_configured_limit()
    {
        await using (var connection = await Db.OpenConnectionAsync(Ct))
            await connection.ExecuteAsync("""
                insert into platform.outbox (id, wire_name, payload, created_at, published_at) values
                    (gen_random_uuid(), 'old.v1', '{}', now() - interval '9 days', now() - interval '8 days'),
                    (gen_random_uuid(), 'recent.v1', '{}', now() - interval '6 days', now() - interval '6 days');
                insert into platform.inbox (message_id, handler, handled_at) values
                    (gen_random_uuid(), 'sample.Old', now() - interval '31 days'),
                    (gen_random_uuid(), 'sample.Recent', now() - interval '29 days');
                insert into identity.audit_log (id, at, kind, subject) values
                    (gen_random_uuid(), now() - interval '91 days', 'sample.old', 'old'),
                    (gen_random_uuid(), now() - interval '89 days', 'sample.recent', 'recent');
                """);
        var queue = app.Services.GetRequiredService<RabbitConnection>().Options.DeadLetterQueue;
        await using var rabbit = await new ConnectionFactory { Uri = new Uri(TestServers.RabbitMq) }.CreateConnectionAsync(Ct);
        await using var channel = await rabbit.CreateChannelAsync(cancellationToken: Ct);
        foreach (var (id, daysAgo) in new[] { ("parked-40-days-ago", 40), ("parked-21-days-ago", 21), ("parked-19-days-ago", 19), ("parked-today", 0) })
            await channel.BasicPublishAsync("", queue, mandatory: false, new BasicProperties
            {
                MessageId = id,
                Headers = new Dictionary<string, object?> { [DeadLetters.ParkedAtHeader] = DateTimeOffset.UtcNow.AddDays(-daysAgo).ToUnixTimeSeconds() },
            }, Encoding.UTF8.GetBytes("{}"), Ct);

        var recurring = app.Services.GetRequiredService<JobStorage>().GetConnection().GetRecurringJobs();
        Assert.Equal("0 4 * * 1", Assert.Single(recurring, j => j.Id == PurgeMessagingJob.Id).Cron);
        Assert.Equal("0 4 * * 1", Assert.Single(recurring, j => j.Id == "identity.purge-audit").Cron);
        var manager = app.Services.GetRequiredService<IRecurringJobManager>();
        manager.Trigger(PurgeMessagingJob.Id);
        manager.Trigger("identity.purge-audit");

        await Eventually.TrueAsync(async () => await CountAsync("select count(*) from platform.outbox") == 1
            && await CountAsync("select count(*) from platform.inbox where handler like 'sample.%'") == 1
            && await CountAsync("select count(*) from identity.audit_log where kind like 'sample.%'") == 1,
            "Hangfire ran both purge jobs", TimeSpan.FromSeconds(60), async () =>
                $"outbox: {await CountAsync("select count(*) from platform.outbox")}, "
                + $"inbox: {await CountAsync("select count(*) from platform.inbox where handler like 'sample.%'")}, "
                + $"audit: {await CountAsync("select count(*) from identity.audit_log where kind like 'sample.%'")}; {await app.Database.DescribeHangfireAsync()}");
        Assert.Equal("recent.v1", await Scalar("select wire_name from platform.outbox"));
        Assert.Equal("sample.Recent", await Scalar("select handler from platform.inbox where handler like 'sample.%'"));
        Assert.Equal("recent", await Scalar("select subject from identity.audit_log where kind like 'sample.%'"));
        // The dead letters are purged by the same job after the tables: peeking while it runs would race it.
        await Eventually.TrueAsync(async () => await Task.Run(() => app.Services.GetRequiredService<JobStorage>().GetConnection().GetRecurringJobs())
            is var jobs && jobs.Single(j => j.Id == PurgeMessagingJob.Id).LastJobState == "Succeeded", "the messaging purge job finished", TimeSpan.FromSeconds(60));
        var kept = new List<string?>();
        await Eventually.TrueAsync(async () =>
        {
            kept.Clear();
            await using var peek = await rabbit.CreateChannelAsync(cancellationToken: Ct);
            while (await peek.BasicGetAsync(queue, autoAck: false, Ct) is { } message) kept.Add(message.BasicProperties.MessageId);
            await peek.CloseAsync(Ct);
            return kept.Count == 2;
        }, "the dead letters past 20 days were dropped");
        Assert.Equal(["parked-19-days-ago", "parked-today"], kept);
    }

    [Fact]
    public async Task A_finished_job_expires_after_the_configured_days()
    {
        var jobId = app.Services.GetRequiredService<IBackgroundJobClient>().Enqueue(() => SampleJob.Run());

        await Eventually.TrueAsync(async () => await CountAsync($"select count(*) from hangfire.job where id = {long.Parse(jobId)} and statename = 'Succeeded' and expireat is not null") == 1,
            "the job succeeded", TimeSpan.FromSeconds(60), app.Database.DescribeHangfireAsync);   // Hangfire polls its queue every 15 s
        var expiresIn = await CountAsync($"select extract(epoch from expireat - now())::bigint from hangfire.job where id = {long.Parse(jobId)}");
        Assert.InRange(expiresIn, TimeSpan.FromDays(3).TotalSeconds - 120, TimeSpan.FromDays(3).TotalSeconds + 5);
    }

    async Task<string?> Scalar(string sql)
    {
        await using var connection = await Db.OpenConnectionAsync(Ct);
        return await connection.ExecuteScalarAsync<string>(sql);
    }
}

public sealed class RetentionOptionsTests
{
    [Fact]
    public void Inbox_rows_must_outlive_dead_letters()
    {
        var options = new RetentionOptions { InboxDays = 10, DeadLetterDays = 30 };
        var results = new List<ValidationResult>();

        Assert.False(Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true));

        var result = Assert.Single(results);
        Assert.Equal(["InboxDays"], result.MemberNames);
        Assert.Contains("Retention:DeadLetterDays", result.ErrorMessage);
    }
}
