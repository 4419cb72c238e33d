using BirbalAI.Testing;

namespace BirbalAI.IntegrationTests;

/// <summary>The whole Birbal AI app for one test class (see <see cref="BirbalApp{TProgram}"/>).</summary>
public sealed class App : BirbalApp<Program>
{
    public App() : base(null) { }

    App(App primary) : base(primary) { }

    /// <summary>A second replica of <paramref name="primary"/>'s deployment.</summary>
    public static App ReplicaOf(App primary) => new(primary);
}
