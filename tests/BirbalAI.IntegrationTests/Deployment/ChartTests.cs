using System.Net;
using System.Text.RegularExpressions;
using BirbalAI.IntegrationTests.Hosting;
using YamlDotNet.RepresentationModel;

namespace BirbalAI.IntegrationTests.Deployment;

/// <summary>
/// helm/birbal, the Dockerfile and compose.yaml without helm or Docker (neither can be installed here): the chart's
/// YAML parses, every `.Values.` path a template uses is in values.yaml and documented, every environment variable
/// any of them sets is a setting the app reads, and every probe is served by the role and on the port it names.
/// </summary>
public sealed partial class ChartTests(RecordingApp app) : IClassFixture<RecordingApp>
{
    static readonly string Chart = Path.Combine(AppProcess.RepoRoot, "helm", "birbal");

    // Read by the .NET host itself, not the app's configuration: the environment name and where the runtime is.
    static readonly string[] RuntimeVariables = ["ASPNETCORE_ENVIRONMENT", "DOTNET_ROOT", "PATH"];

    static YamlMappingNode Yaml(string path)
    {
        var stream = new YamlStream();
        using var reader = new StreamReader(path);
        stream.Load(reader);
        return (YamlMappingNode)stream.Documents[0].RootNode;
    }

    static YamlMappingNode Values => Yaml(Path.Combine(Chart, "values.yaml"));

    static IEnumerable<(string File, string Text)> Templates =>
        Directory.GetFiles(Path.Combine(Chart, "templates")).Order(StringComparer.Ordinal).Select(f => (Path.GetFileName(f), File.ReadAllText(f)));

    static YamlNode? At(YamlMappingNode root, string dottedPath)
    {
        YamlNode? node = root;
        foreach (var part in dottedPath.Split('.'))
            node = node is YamlMappingNode map && map.Children.TryGetValue(new YamlScalarNode(part), out var child) ? child : null;
        return node;
    }

    [Fact]
    public void Chart_yaml_names_the_chart_and_its_versions()
    {
        var chart = Yaml(Path.Combine(Chart, "Chart.yaml"));

        Assert.Equal("v2", chart["apiVersion"].ToString());
        Assert.Equal("birbal", chart["name"].ToString());
        Assert.Matches(@"^\d+\.\d+\.\d+$", chart["version"].ToString());
        Assert.False(string.IsNullOrWhiteSpace(chart["appVersion"].ToString()));
    }

    [Fact]
    public void Every_Values_path_a_template_uses_is_in_values_yaml()
    {
        var values = Values;
        var used = Templates.SelectMany(t => ValuesPath().Matches(t.Text).Select(m => (t.File, Path: m.Groups["path"].Value))).Distinct().ToList();

        Assert.True(used.Count > 50, $"only {used.Count} uses of .Values found: is the pattern still right?");
        Assert.Empty(used.Where(u => At(values, u.Path) is null).Select(u => $"{u.File}: .Values.{u.Path}"));
    }

    [Fact]
    public void Every_field_of_values_yaml_is_documented_by_a_comment()
    {
        // A comment right above each field, or the field is the first child of the field above it (whose comment
        // then describes it, as resources: does for requests:).
        var lines = File.ReadAllLines(Path.Combine(Chart, "values.yaml"));
        var undocumented = new List<string>();
        for (var i = 0; i < lines.Length; i++)
        {
            var match = Field().Match(lines[i]);
            if (!match.Success) continue;
            var previous = lines.Take(i).Reverse().FirstOrDefault(l => l.Trim().Length > 0) ?? "";
            var parent = Field().Match(previous);
            var documented = previous.TrimStart().StartsWith('#')
                || parent.Success && parent.Groups["indent"].Length < match.Groups["indent"].Length && previous.TrimEnd().EndsWith(':');
            if (!documented) undocumented.Add($"line {i + 1}: {lines[i].Trim()}");
        }
        Assert.Empty(undocumented);
    }

    [Fact]
    public async Task Every_environment_variable_the_chart_the_Dockerfile_and_compose_set_is_a_setting_the_app_reads()
    {
        var set = ChartVariables().Concat(DockerfileVariables()).Concat(ComposeVariables()).Distinct().ToList();
        Assert.Contains("chart: Database__MigrateOnStart", set);
        Assert.Contains("chart: SecretsDirectory", set);
        Assert.Contains("Dockerfile: Ml__StarterModelDirectory", set);

        // The app as it starts on a socket (so Kestrel reads Listen): every options class is bound and validated, every direct lookup made.
        using var http = new HttpClient { BaseAddress = app.StartOnSocket() };
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/readyz", TestContext.Current.CancellationToken)).StatusCode);
        var read = app.KeysRead.ToHashSet(StringComparer.OrdinalIgnoreCase);
        Assert.Contains("Database:ConnectionString", read);   // the recording works at all
        Assert.Contains("Database:MigrateOnStart", read);
        Assert.Contains("Identity:Smtp:Host", read);          // an options class's section that nothing set, nested
        Assert.DoesNotContain("Database:NoSuchSetting", read);
        // Lookups made while the host is composed, before a test's configuration source is there: from the code.
        var composing = ComposingLookups();
        Assert.Contains("role", composing);
        Assert.Contains("SecretsDirectory", composing);
        read.UnionWith(composing);

        var unknown = set.Where(s => s.Split(": ")[1] is var name && !RuntimeVariables.Contains(name) && !read.Contains(name.Replace("__", ":")));
        Assert.True(!unknown.Any(), string.Join(", ", unknown) + " / read: " + string.Join(", ", read.Order()));
    }

    static HashSet<string> ComposingLookups() =>
        new[] { "BirbalAI.Web", "Modules", "Workers" }
            .SelectMany(d => Directory.GetFiles(Path.Combine(AppProcess.RepoRoot, d), "*.cs", SearchOption.AllDirectories))
            .Where(f => !f.Contains("/obj/", StringComparison.Ordinal) && !f.Contains("/bin/", StringComparison.Ordinal))
            .SelectMany(f => ConfigurationLookup().Matches(File.ReadAllText(f)).Select(m => m.Groups["key"].Value))
            .ToHashSet(StringComparer.OrdinalIgnoreCase);

    static IEnumerable<string> ChartVariables()
    {
        foreach (var (file, text) in Templates)
            foreach (Match m in EnvEntry().Matches(text))
                yield return "chart: " + m.Groups["name"].Value;
        // The operator's own settings are rendered from values' config map (range over .Values.config).
        Assert.Contains(Templates, t => t.Text.Contains("range $name, $value := .Values.config", StringComparison.Ordinal));
        foreach (var key in ((YamlMappingNode)Values["config"]).Children.Keys)
            yield return "chart: " + key;
    }

    static IEnumerable<string> DockerfileVariables()
    {
        var text = File.ReadAllText(Path.Combine(AppProcess.RepoRoot, "Dockerfile")).Replace("\\\n", " ");
        foreach (var line in text.Split('\n').Where(l => l.StartsWith("ENV ", StringComparison.Ordinal)))
            foreach (Match m in DockerAssignment().Matches(line[4..]))
                yield return "Dockerfile: " + m.Groups["name"].Value;
    }

    static IEnumerable<string> ComposeVariables()
    {
        var app = (YamlMappingNode)((YamlMappingNode)Yaml(Path.Combine(AppProcess.RepoRoot, "compose.yaml"))["services"])["birbal"];
        foreach (var key in ((YamlMappingNode)app["environment"]).Children.Keys)
            yield return "compose: " + key;
    }

    [Fact]
    public void Probes_ask_the_app_paths_it_serves_on_the_port_its_role_listens_on()
    {
        var values = Values;
        var checkedProbes = 0;
        foreach (var (file, text) in Templates.Where(t => t.Text.Contains("\nkind: Deployment\n", StringComparison.Ordinal)))
        {
            var role = RoleArgument().Match(text).Groups["role"].Value;
            var listen = role switch { "web" => "Web", "worker" => "Worker", _ => throw new InvalidOperationException($"{file}: no --role web|worker") };
            // The Listen setting of that role, and the port the container declares, are the same value.
            var listenPort = Regex.Match(text, $@"name: Listen__{listen}\s*\n\s*value: ""http://0\.0\.0\.0:\{{\{{ \.Values\.(?<path>[\w.]+) \}}\}}""");
            Assert.True(listenPort.Success, $"{file}: sets Listen__{listen} to a port from values");
            Assert.IsType<YamlScalarNode>(At(values, listenPort.Groups["path"].Value));
            foreach (Match probe in Probe().Matches(text))
            {
                var portName = probe.Groups["port"].Value;
                var declared = Regex.Match(text, $@"- name: {portName}\s*\n\s*containerPort: \{{\{{ \.Values\.(?<path>[\w.]+) \}}\}}");
                Assert.True(declared.Success, $"{file}: the probe's port {portName} is a container port");
                Assert.Equal(listenPort.Groups["path"].Value, declared.Groups["path"].Value);
                Assert.Contains(probe.Groups["path"].Value, (string[])["/healthz", "/readyz"]);
                checkedProbes++;
            }
        }
        Assert.Equal(6, checkedProbes);   // startup, liveness and readiness of web and worker
    }

    [Theory]
    [InlineData("web", "/healthz")]
    [InlineData("web", "/readyz")]
    [InlineData("worker", "/healthz")]
    [InlineData("worker", "/readyz")]
    public async Task The_probed_paths_answer_200_in_their_role(string role, string path)
    {
        var probed = Templates.Where(t => RoleArgument().Match(t.Text).Groups["role"].Value == role)
            .SelectMany(t => Probe().Matches(t.Text).Select(m => m.Groups["path"].Value));
        Assert.Contains(path, probed);

        await using var instance = new App();
        await instance.InitializeAsync();
        instance.With("role", role);
        Assert.Equal(HttpStatusCode.OK, (await instance.CreateClient().GetAsync(path, TestContext.Current.CancellationToken)).StatusCode);
    }

    [Fact]
    public void Pods_never_migrate_when_the_job_does_and_secrets_are_referenced_not_inlined()
    {
        var helpers = File.ReadAllText(Path.Combine(Chart, "templates", "_helpers.tpl"));
        var job = File.ReadAllText(Path.Combine(Chart, "templates", "migration-job.yaml"));

        Assert.Contains("name: Database__MigrateOnStart\n  value: {{ not .Values.migrations.job | quote }}", helpers);
        Assert.Contains("\"helm.sh/hook\": pre-install,pre-upgrade", job);
        Assert.Contains("args: [\"migrate\"]", job);
        Assert.Equal("True", Values["migrations"]["job"].ToString(), ignoreCase: true);
        foreach (var server in new[] { "Database__ConnectionString", "Redis__ConnectionString", "RabbitMq__Uri", "Mongo__ConnectionString" })
            Assert.Matches($@"name: {server}\s*\n\s*valueFrom:\s*\n\s*secretKeyRef:", helpers);
        Assert.Contains("secretName: {{ .Values.secrets.existingSecret }}", helpers);
        Assert.DoesNotContain(Templates, t => t.Text.Contains("kind: Secret\n", StringComparison.Ordinal));
    }

    [GeneratedRegex(@"\.Values\.(?<path>[A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*)")]
    private static partial Regex ValuesPath();

    [GeneratedRegex(@"Configuration\[""(?<key>[^""]+)""\]")]
    private static partial Regex ConfigurationLookup();

    [GeneratedRegex(@"- name: (?<name>[A-Za-z_][A-Za-z0-9_]*)\s*\n\s*(?:value|valueFrom):")]
    private static partial Regex EnvEntry();

    [GeneratedRegex(@"(?<name>[A-Za-z_][A-Za-z0-9_]*)=")]
    private static partial Regex DockerAssignment();

    [GeneratedRegex(@"args: \[""--role"", ""(?<role>\w+)""\]")]
    private static partial Regex RoleArgument();

    [GeneratedRegex(@"httpGet:\s*\n\s*path: (?<path>\S+)\s*\n\s*port: (?<port>\w+)")]
    private static partial Regex Probe();

    [GeneratedRegex(@"^(?<indent> *)[A-Za-z_][A-Za-z0-9_]*:")]
    private static partial Regex Field();
}
