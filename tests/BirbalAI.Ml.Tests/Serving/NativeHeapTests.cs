using System.Runtime.InteropServices;
using BirbalAI.Ml.Serving;

namespace BirbalAI.Ml.Tests.Serving;

/// <summary>Alone, after the parallel tests: it reads the process's resident size.</summary>
[CollectionDefinition(DisableParallelization = true)]
public sealed class ProcessMemory;

[Collection(typeof(ProcessMemory))]
public sealed class NativeHeapTests
{
    [Fact]
    public void Zero_leaves_the_allocator_alone()
    {
        Assert.False(NativeHeap.SetMmapThreshold(0));
    }

    [Fact]
    public void With_the_threshold_set_freed_blocks_of_that_size_leave_the_process()
    {
        Assert.True(NativeHeap.SetMmapThreshold(1 << 20));

        // Blocks of 4 MiB (ONNX Runtime's activations), each followed by a small block that outlives it (what the
        // runtime keeps between calls): freed, the large ones cannot fall back into the heap's top, so a heap keeps them.
        var kept = new List<nint>();
        var before = RssKiB();
        for (var round = 0; round < 4; round++)
        {
            var blocks = Enumerable.Range(0, 16).Select(i =>
            {
                var size = (4 << 20) + i * 4096 * (round + 1);
                var pointer = Marshal.AllocHGlobal(size);   // malloc
                Marshal.Copy(Ones, 0, pointer, size);
                kept.Add(Marshal.AllocHGlobal(64));
                return pointer;
            }).ToArray();
            foreach (var block in blocks) Marshal.FreeHGlobal(block);
        }
        var after = RssKiB();
        foreach (var block in kept) Marshal.FreeHGlobal(block);

        Assert.True(after - before < 16 * 1024, $"{(after - before) / 1024} MiB of 64 MiB freed stayed resident");
    }

    static readonly byte[] Ones = Enumerable.Repeat((byte)1, 5 << 20).ToArray();

    static long RssKiB() =>
        File.ReadLines("/proc/self/status").Where(l => l.StartsWith("VmRSS:", StringComparison.Ordinal))
            .Select(l => long.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1])).Single();
}
