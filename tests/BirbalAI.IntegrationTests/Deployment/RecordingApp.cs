using System.Collections.Concurrent;
using BirbalAI.Testing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;

namespace BirbalAI.IntegrationTests.Deployment;

/// <summary>
/// The whole app with one more configuration source, added last so it is asked first for every key: it holds no
/// values and records each key the app looks up — every setting it reads, whether through an options class, the
/// configuration binder or a plain <c>configuration["key"]</c> — once the host is built. (A test's sources are added
/// only then, so the few lookups Program makes while composing the host are not seen; ChartTests reads those from
/// the code, and Kestrel's endpoints are read again when the server starts on a socket.) What a deployment sets
/// must be among them.
/// </summary>
public sealed class RecordingApp : BirbalApp<Program>
{
    readonly RecordingSource recording = new();

    public RecordingApp()
    {
        // The binder reads an options class's properties only when its section has some key: give every options
        // section (and each nested class of one, like Identity:Smtp) a key no property has, so all of them are read.
        foreach (var path in OptionsSections()) With(path + ":recording-probe", "");
    }

    /// <summary>The section of every options class of the app (its <c>const string Section</c>) and of the classes nested in it.</summary>
    static IEnumerable<string> OptionsSections()
    {
        var assemblies = Directory.GetFiles(AppContext.BaseDirectory, "BirbalAI.*.dll")
            .Where(f => !f.EndsWith("Tests.dll", StringComparison.Ordinal) && !f.EndsWith(".Testing.dll", StringComparison.Ordinal))
            .Select(f => System.Reflection.Assembly.Load(System.Reflection.AssemblyName.GetAssemblyName(f)));
        foreach (var type in assemblies.SelectMany(a => a.GetTypes()))
        {
            var field = type.GetField("Section", System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static);
            if (field is not { IsLiteral: true } || field.GetRawConstantValue() is not string section) continue;
            foreach (var path in Nested(type, section)) yield return path;
        }
    }

    static IEnumerable<string> Nested(Type type, string path)
    {
        yield return path;
        foreach (var property in type.GetProperties().Where(p => p.CanWrite && p.PropertyType.IsClass && p.PropertyType != typeof(string) && !p.PropertyType.IsArray))
            foreach (var nested in Nested(property.PropertyType, path + ":" + property.Name)) yield return nested;
    }

    /// <summary>Every key looked up so far, as written in configuration ("Database:ConnectionString").</summary>
    public ICollection<string> KeysRead => recording.Keys.Keys;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureAppConfiguration((_, configuration) => configuration.Add(recording));
    }

    sealed class RecordingSource : IConfigurationSource, IConfigurationProvider
    {
        public ConcurrentDictionary<string, byte> Keys { get; } = new(StringComparer.OrdinalIgnoreCase);

        public IConfigurationProvider Build(IConfigurationBuilder builder) => this;

        public bool TryGet(string key, out string? value)
        {
            Keys.TryAdd(key, 0);
            value = null;
            return false;
        }

        public void Set(string key, string? value) { }
        public Microsoft.Extensions.Primitives.IChangeToken GetReloadToken() => NoChanges.Instance;
        public void Load() { }
        public IEnumerable<string> GetChildKeys(IEnumerable<string> earlierKeys, string? parentPath) => earlierKeys;

        sealed class NoChanges : Microsoft.Extensions.Primitives.IChangeToken
        {
            public static readonly NoChanges Instance = new();
            public bool HasChanged => false;
            public bool ActiveChangeCallbacks => false;
            public IDisposable RegisterChangeCallback(Action<object?> callback, object? state) => EmptyDisposable.Instance;
        }

        sealed class EmptyDisposable : IDisposable
        {
            public static readonly EmptyDisposable Instance = new();
            public void Dispose() { }
        }
    }
}
