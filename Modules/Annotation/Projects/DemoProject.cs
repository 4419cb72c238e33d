using System.Text;
using System.Text.Json;
using BirbalAI.Annotation.Import;
using BirbalAI.Contracts.Identity;
using BirbalAI.Platform;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;

namespace BirbalAI.Annotation.Projects;

/// <summary>
/// The demo's labelling project: made and filled as an Admin would (create, let the Annotator in, import a file of items),
/// overlap 2, so each of its tasks waits for two people's labels.
/// </summary>
sealed class DemoProject(NpgsqlDataSource db, IOptions<AnnotationOptions> options) : IDemoContent
{
    public const string Name = "Garden club comments";

    const string Guideline = """
        Label each comment from the garden club's notice board with every category it falls under; a friendly or merely grumpy
        comment has none. When in doubt, read the full labelling guidelines under the moderation review project.
        """;

    static readonly string[] Items =
    [
        "The new compost bins are brilliant, thank you to whoever built them.",
        "Can we move the Saturday meeting to ten? Nine is too early in winter.",
        "If I catch you near my shed again you will be sorry.",
        "Honestly the worst-kept plot I have ever seen, you lazy idiot.",
        "Spare courgette seedlings by the gate, help yourselves.",
        "Someone left the tap running all night again.",
    ];

    public int Order => 40;

    public async Task<string?> ExistingContentAsync(CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var projects = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            "select count(*) from annotation.projects where kind <> @Moderation", new { ProjectAccess.Moderation }, cancellationToken: ct));
        return projects > 0 ? $"{projects} labelling project(s)" : null;
    }

    public async Task AddAsync(DemoInstallation demo, CancellationToken ct)
    {
        var admin = demo.InRole(Roles.Admin).FirstOrDefault() ?? throw new InvalidOperationException("the demo's people come before its labelling project");
        await using var connection = await db.OpenConnectionAsync(ct);
        var (id, refusal) = await ProjectsApi.CreateAsync(connection, new ProjectsApi.CreateRequest(Name, null, Overlap: 2, Guidelines: Guideline), options.Value, ct);
        if (refusal is { } r) throw new InvalidOperationException($"demo: the labelling project could not be made: {r.Error}");
        foreach (var annotator in demo.InRole(Roles.Annotator)) await ProjectsApi.AddMemberAsync(connection, id, annotator.Id, ct);
        var project = (await ProjectAccess.ReachableAsync(connection, id, admin.Principal, ct))!;
        var file = new MemoryStream(Encoding.UTF8.GetBytes(string.Concat(Items.Select(text => JsonSerializer.Serialize(new { text, language = "en" }) + "\n"))));
        var outcome = await ImportTasks.RunAsync(connection, project, ImportFormats.Jsonl, file, skipBadRows: false, admin.Id, options.Value, null, null, ct);
        if (outcome.Report is not { } report) throw new InvalidOperationException($"demo: the labelling project's items could not be imported: {outcome.Error}");
        await demo.Output.WriteLineAsync($"demo: labelling project {Name} (overlap {project.Overlap}): {report.Imported} tasks, open to {string.Join(", ", demo.InRole(Roles.Annotator).Select(a => a.DisplayName))}");
    }
}
