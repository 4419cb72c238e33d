using System.Reflection;
using Assembly = System.Reflection.Assembly;
using ArchUnitNET.Domain;
using ArchUnitNET.Loader;
using BirbalAI.Platform;

namespace BirbalAI.ArchitectureTests;

public sealed class ModuleRulesTests
{
    static readonly string Repo = FindRepo();

    /// <summary>Every module library the host references (BirbalAI.&lt;Name&gt; under Modules/), Platform and Contracts aside.</summary>
    static readonly Assembly[] ModuleAssemblies = typeof(Program).Assembly.GetReferencedAssemblies()
        .Where(a => a.Name!.StartsWith("BirbalAI.", StringComparison.Ordinal))
        .Select(Assembly.Load)
        .Where(a => Directory.Exists(Path.Combine(Repo, "Modules", Short(a))) && Short(a) is not ("Platform" or "Contracts"))
        .ToArray();

    static readonly string[] ModuleNamespaces = ModuleAssemblies.Select(a => a.GetName().Name!).ToArray();

    static readonly Architecture Product = new ArchLoader().LoadAssemblies(
        [typeof(Program).Assembly, typeof(PlatformModule).Assembly, typeof(Workers.WorkersModule).Assembly,
         typeof(Contracts.IntegrationEventAttribute).Assembly, .. ModuleAssemblies]).Build();

    static readonly Architecture Samples = new ArchLoader().LoadAssemblies(typeof(ModuleRulesTests).Assembly).Build();

    static readonly IReadOnlySet<string> Schemas = new HashSet<string>(
        Directory.GetDirectories(Path.Combine(Repo, "Modules")).Select(d => Path.GetFileName(d).ToLowerInvariant())
            .Where(n => n != "contracts").Append("hangfire"));

    static string Short(Assembly assembly) => assembly.GetName().Name!["BirbalAI.".Length..];

    static string FindRepo()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "BirbalAI.sln"))) directory = directory.Parent;
        return directory?.FullName ?? throw new InvalidOperationException("BirbalAI.sln not found above the test output");
    }

    static IEnumerable<(string Path, string Text)> SourceFiles(string module, params string[] patterns) =>
        patterns.SelectMany(p => Directory.EnumerateFiles(Path.Combine(Repo, "Modules", module), p, SearchOption.AllDirectories))
            .Where(f => !f.Contains("/bin/", StringComparison.Ordinal) && !f.Contains("/obj/", StringComparison.Ordinal))
            .Select(f => (Path.GetRelativePath(Repo, f), File.ReadAllText(f)));

    [Fact]
    public void Platform_depends_on_no_module_nor_on_the_host_or_the_workers()
    {
        Assert.Empty(ModuleRules.DependencyViolations(Product, "BirbalAI.Platform",
            [.. ModuleNamespaces, "BirbalAI.Web", "BirbalAI.Workers"]));
    }

    [Fact]
    public void Workers_depend_only_on_Platform_and_Contracts()
    {
        Assert.Empty(ModuleRules.DependencyViolations(Product, "BirbalAI.Workers", [.. ModuleNamespaces, "BirbalAI.Web"]));
    }

    [Fact]
    public void Contracts_depend_on_nothing_of_ours()
    {
        Assert.Empty(ModuleRules.DependencyViolations(Product, "BirbalAI.Contracts",
            [.. ModuleNamespaces, "BirbalAI.Platform", "BirbalAI.Web", "BirbalAI.Workers"]));
    }

    [Fact]
    public void No_module_depends_on_another_module()
    {
        Assert.All(ModuleNamespaces, module =>
            Assert.Empty(ModuleRules.DependencyViolations(Product, module, [.. ModuleNamespaces, "BirbalAI.Web", "BirbalAI.Workers"])));
    }

    [Fact]
    public void Modules_expose_only_their_registration()
    {
        Assert.All(ModuleAssemblies, assembly => Assert.Empty(ModuleRules.PublicTypeViolations(assembly, assembly.GetName().Name!)));
    }

    [Fact]
    public void Every_module_names_only_its_own_schema_in_SQL()
    {
        foreach (var directory in Directory.GetDirectories(Path.Combine(Repo, "Modules")))
        {
            var module = Path.GetFileName(directory);
            if (module == "Contracts") continue;
            var files = SourceFiles(module, "*.sql", "*.cs").ToList();
            Assert.NotEmpty(files);
            Assert.Empty(ModuleRules.SchemaViolations(module.ToLowerInvariant(), Schemas, files));
        }
    }

    [Fact]
    public void Razor_files_of_a_module_import_no_other_module()
    {
        var modules = new HashSet<string>(ModuleAssemblies.Select(Short).Append("Platform").Append("Web").Append("Workers"));
        foreach (var module in ModuleAssemblies.Select(Short))
            Assert.Empty(ModuleRules.RazorUsingViolations(module, modules, SourceFiles(module, "*.cshtml")));
    }

    // The rules can fail: each finds the sample that breaks it.

    [Fact]
    public void The_dependency_rule_finds_a_module_using_another_module()
    {
        const string samples = "BirbalAI.ArchitectureTests.Samples";
        Assert.Single(ModuleRules.DependencyViolations(Samples, $"{samples}.Alpha", [$"{samples}.Beta"]));
        Assert.Empty(ModuleRules.DependencyViolations(Samples, $"{samples}.Beta", [$"{samples}.Alpha"]));
        Assert.Single(ModuleRules.DependencyViolations(Samples, $"{samples}.Kernel", [$"{samples}.Alpha", $"{samples}.Beta"]));
    }

    [Fact]
    public void The_public_type_rule_finds_a_public_type_that_is_not_the_registration()
    {
        var violations = ModuleRules.PublicTypeViolations(typeof(ModuleRulesTests).Assembly, "BirbalAI.ArchitectureTests.Samples.Beta");

        Assert.Equal(["BirbalAI.ArchitectureTests.Samples.Beta.BetaThing is public; only the module's registration may be"], violations);
    }

    [Fact]
    public void The_schema_rule_finds_SQL_that_names_another_module_schema()
    {
        var schemas = new HashSet<string> { "chat", "identity", "platform" };
        (string, string)[] files =
        [
            ("Modules/Chat/Messages/PostMessage.cs", "const string Sql = \"\"\"\n select u.email from identity.users u join chat.members m on m.user_id = u.id\n \"\"\";"),
            ("Modules/Chat/Migrations/0002_x.sql", "create index on chat.messages (room_id);\ninsert into platform.outbox (id) values (gen_random_uuid());"),
            ("Modules/Chat/ChatModule.cs", "var name = options.Value.Name; // C# outside SQL literals is not SQL"),
        ];

        var violations = ModuleRules.SchemaViolations("chat", schemas, files);

        Assert.Equal(
        [
            "Modules/Chat/Messages/PostMessage.cs: names identity.users of schema 'identity' (own schema: 'chat')",
            "Modules/Chat/Migrations/0002_x.sql: names platform.outbox of schema 'platform' (own schema: 'chat')",
        ], violations);
    }

    [Fact]
    public void The_razor_rule_finds_a_page_importing_another_module()
    {
        var violations = ModuleRules.RazorUsingViolations("Chat", new HashSet<string> { "Chat", "Identity" },
            [("Modules/Chat/Pages/_ViewImports.cshtml", "@using BirbalAI.Chat\n@using BirbalAI.Identity.Users\n")]);

        Assert.Equal(["Modules/Chat/Pages/_ViewImports.cshtml: @using BirbalAI.Identity"], violations);
    }
}
