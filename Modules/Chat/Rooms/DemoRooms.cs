using BirbalAI.Chat.Messages;
using BirbalAI.Contracts.Identity;
using BirbalAI.Platform;
using Dapper;
using Npgsql;

namespace BirbalAI.Chat.Rooms;

/// <summary>
/// The demo's rooms: a public one where the members talk (every message through the real moderator, as if they had
/// typed it: some are held for review, one is refused) and a private one for the organisers.
/// </summary>
sealed class DemoRooms(NpgsqlDataSource db, ChatMessages messages) : IDemoContent
{
    public int Order => 20;

    public async Task<string?> ExistingContentAsync(CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var rooms = await connection.ExecuteScalarAsync<long>(new CommandDefinition("select count(*) from chat.rooms", cancellationToken: ct));
        return rooms > 0 ? $"{rooms} room(s)" : null;
    }

    public async Task AddAsync(DemoInstallation demo, CancellationToken ct)
    {
        var admin = demo.InRole(Roles.Admin).First();
        var annotator = demo.InRole(Roles.Annotator).First();
        var members = demo.InRole(Roles.Member).Take(3).ToArray();
        if (members.Length < 3) throw new InvalidOperationException("the demo's people come before its rooms");
        var (maya, omar, lena) = (members[0], members[1], members[2]);

        await using var connection = await db.OpenConnectionAsync(ct);
        var garden = await RoomsApi.CreateAsync(connection, maya.Id, "Garden club", isPrivate: false, ct);
        foreach (var person in new[] { omar, lena, annotator, admin }) await AddMemberAsync(connection, garden, person, "member", ct);
        var organisers = await RoomsApi.CreateAsync(connection, admin.Id, "Organisers", isPrivate: true, ct);
        await AddMemberAsync(connection, organisers, maya, "moderator", ct);
        await AddMemberAsync(connection, organisers, annotator, "member", ct);

        // Written against the starter model: the threats are held (between the review and reject thresholds), the
        // insult is refused. The tests check that this stays so, with the real starter model.
        await SayAsync(demo, "Garden club (public, Maya moderates)", garden,
        [
            (maya, "Morning all! Who is coming to the garden clean-up on Saturday?"),
            (omar, "I can bring gloves and a couple of rakes."),
            (lena, "Great, I'll bake something for the break."),
            (omar, "Whoever keeps stealing the strawberries, I will find you and you will regret it."),
            (lena, "Does anyone know a good recipe for green tomato chutney?"),
            (omar, "I swear if you touch my tomatoes again I'll break your fingers."),
            (lena, "Shut up, you are pathetic and useless."),
            (maya, "Let's keep it friendly, folks. See you Saturday!"),
        ], ct);
        await SayAsync(demo, "Organisers (private)", organisers,
        [
            (admin, "Welcome! Held messages from the rooms wait under Held messages for Maya or me to release or remove."),
            (maya, "Thanks, I'll look at the garden club's tonight."),
        ], ct);
    }

    static Task AddMemberAsync(NpgsqlConnection connection, Guid roomId, DemoPerson person, string role, CancellationToken ct) =>
        connection.ExecuteAsync(new CommandDefinition(
            "insert into chat.members (room_id, user_id, role) values (@RoomId, @UserId, @Role) on conflict (room_id, user_id) do update set role = excluded.role",
            new { roomId, UserId = person.Id, role }, cancellationToken: ct));

    async Task SayAsync(DemoInstallation demo, string room, Guid roomId, (DemoPerson Author, string Text)[] conversation, CancellationToken ct)
    {
        await demo.Output.WriteLineAsync($"demo: room {room}:");
        foreach (var (author, text) in conversation)
        {
            var outcome = await messages.PostAsync(author.Principal, roomId, text, ct);
            var status = outcome.Message?.Status ?? throw new InvalidOperationException($"demo: {author.DisplayName} could not post: {outcome.Error}");
            await demo.Output.WriteLineAsync($"  {status,-9} {author.DisplayName}: {text}");
        }
    }
}
