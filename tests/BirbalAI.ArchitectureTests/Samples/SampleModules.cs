// Test-only "modules" that break every rule on purpose: each rule must find them, or it could not fail.
namespace BirbalAI.ArchitectureTests.Samples.Alpha
{
    public sealed class AlphaHelper
    {
        public int Count(Beta.BetaThing thing) => thing.Items.Count;   // a module using another module
    }
}

namespace BirbalAI.ArchitectureTests.Samples.Beta
{
    public sealed class BetaThing
    {
        public List<string> Items { get; } = [];
    }

    public static class BetaModule;
}

namespace BirbalAI.ArchitectureTests.Samples.Kernel
{
    internal sealed class KernelClock
    {
        public Alpha.AlphaHelper Helper { get; } = new();   // a "Platform" depending on a module
    }
}
