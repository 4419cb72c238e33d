using System.Reflection;
using Assembly = System.Reflection.Assembly;
using System.Text.RegularExpressions;
using ArchUnitNET.Domain;
using ArchUnitNET.Fluent;
using static ArchUnitNET.Fluent.ArchRuleDefinition;

namespace BirbalAI.ArchitectureTests;

/// <summary>The rules of ARCHITECTURE.md as functions that return their violations, so tests can prove each can fail.</summary>
public static partial class ModuleRules
{
    static string InNamespace(string ns) => $"^{Regex.Escape(ns)}(\\..*)?$";

    /// <summary>Types of <paramref name="from"/> depend on no type of <paramref name="forbidden"/>.</summary>
    public static IReadOnlyList<string> DependencyViolations(Architecture architecture, string from, IEnumerable<string> forbidden)
    {
        var violations = new List<string>();
        foreach (var target in forbidden.Where(f => f != from))
        {
            var rule = Types().That().ResideInNamespaceMatching(InNamespace(from))
                .Should().NotDependOnAnyTypesThat().ResideInNamespaceMatching(InNamespace(target))
                .WithoutRequiringPositiveResults();
            violations.AddRange(rule.Evaluate(architecture).Where(r => !r.Passed).Select(r => $"{from} → {target}: {r.Description}"));
        }
        return violations;
    }

    /// <summary>A module exposes only its registration (the type named …Module); everything else is internal.</summary>
    public static IReadOnlyList<string> PublicTypeViolations(Assembly assembly, string ns) =>
        assembly.GetExportedTypes()
            .Where(t => t.Namespace is { } n && Regex.IsMatch(n, InNamespace(ns)) && !t.Name.EndsWith("Module", StringComparison.Ordinal))
            .Select(t => $"{t.FullName} is public; only the module's registration may be").ToList();

    /// <summary>
    /// SQL of a module names only its own schema: in its .sql files and in the raw string literals of its C#.
    /// <paramref name="files"/> are (path, text) pairs.
    /// </summary>
    public static IReadOnlyList<string> SchemaViolations(string ownSchema, IReadOnlySet<string> schemas, IEnumerable<(string Path, string Text)> files)
    {
        var violations = new List<string>();
        foreach (var (path, text) in files)
        {
            var sql = path.EndsWith(".sql", StringComparison.Ordinal) ? [text] : RawLiteral().Matches(text).Select(m => m.Groups["sql"].Value);
            foreach (var chunk in sql)
                foreach (Match m in QualifiedName().Matches(chunk))
                {
                    var schema = m.Groups["schema"].Value.ToLowerInvariant();
                    if (schema != ownSchema && schemas.Contains(schema))
                        violations.Add($"{path}: names {m.Value} of schema '{schema}' (own schema: '{ownSchema}')");
                }
        }
        return violations;
    }

    /// <summary>A module's Razor files import no other module's namespace.</summary>
    public static IReadOnlyList<string> RazorUsingViolations(string module, IReadOnlySet<string> modules, IEnumerable<(string Path, string Text)> files) =>
        files.SelectMany(f => RazorUsing().Matches(f.Text).Select(m => (f.Path, Name: m.Groups["module"].Value)))
            .Where(u => u.Name != module && modules.Contains(u.Name))
            .Select(u => $"{u.Path}: @using BirbalAI.{u.Name}").ToList();

    [GeneratedRegex("\"\"\"(?<sql>.*?)\"\"\"", RegexOptions.Singleline)]
    private static partial Regex RawLiteral();

    [GeneratedRegex(@"\b(?<schema>[A-Za-z_][A-Za-z0-9_]*)\.[A-Za-z_][A-Za-z0-9_]*\b")]
    private static partial Regex QualifiedName();

    [GeneratedRegex(@"^\s*@using\s+BirbalAI\.(?<module>[A-Za-z]+)", RegexOptions.Multiline)]
    private static partial Regex RazorUsing();
}
