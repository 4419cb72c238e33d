using System.Runtime.InteropServices;

namespace BirbalAI.Ml.Serving;

/// <summary>
/// glibc's allocator raises its mmap threshold each time a large block is freed (up to 32 MiB on 64-bit), after which
/// ONNX Runtime's activation buffers — megabytes each, a different size every call, on two runner threads — come from
/// the heap instead, fragment it and stay resident: a burst of long texts left the process 100–200 MiB larger than
/// it needed (bench/README.md, <c>adversarial_peak_mib_ensemble</c>). A fixed threshold (<c>mallopt(M_MMAP_THRESHOLD)</c>,
/// which also turns the dynamic adjustment off) gives every block of that size or more back to the system on free.
/// </summary>
static class NativeHeap
{
    const int MmapThreshold = -3;   // M_MMAP_THRESHOLD in malloc.h

    static int applied;

    /// <summary>Sets the threshold once per process; false where it does not apply (0, not Linux, no glibc mallopt).</summary>
    public static bool SetMmapThreshold(int bytes)
    {
        if (bytes <= 0 || !OperatingSystem.IsLinux()) return false;
        if (Interlocked.Exchange(ref applied, 1) == 1) return true;
        try
        {
            return Mallopt(MmapThreshold, bytes) == 1;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    // DllImport rather than LibraryImport: two ints need no marshalling, and the module compiles without unsafe code.
    [DllImport("libc", EntryPoint = "mallopt")]
    static extern int Mallopt(int parameter, int value);
}
