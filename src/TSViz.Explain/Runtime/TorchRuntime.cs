using System.Reflection;
using System.Runtime.InteropServices;
using TorchSharp;

namespace TSViz.Explain.Runtime;

/// <summary>
/// One-time set-up of libtorch for this process: loads it, switches NNPACK off (on CPUs without it libtorch
/// otherwise prints "Could not initialize NNPACK" on every convolution; TORCH_CPP_LOG_LEVEL does not stop it)
/// and applies the thread count.
/// </summary>
public static class TorchRuntime
{
    private static readonly Lock Gate = new();
    private static bool initialized;
    private static IntPtr context;
    private static unsafe delegate* unmanaged<IntPtr, bool> userEnabledNnpack;

    /// <summary>Initialises libtorch once; later calls only return. Safe from any thread.</summary>
    /// <param name="intraOpThreads">Intra-op threads for libtorch; null keeps libtorch's default (one per core).</param>
    public static void EnsureInitialized(int? intraOpThreads = null)
    {
        lock (Gate)
        {
            if (!initialized)
            {
                torch.InitializeDeviceType(DeviceType.CPU);
                DisableNnpack();
                initialized = true;
            }

            if (intraOpThreads is int threads)
            {
                ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1, nameof(intraOpThreads));
                torch.set_num_threads(threads);
            }
        }
    }

    /// <summary>Whether libtorch would still try NNPACK (false after <see cref="EnsureInitialized"/> on Linux).</summary>
    public static unsafe bool IsNnpackEnabled
    {
        get
        {
            EnsureInitialized();
            if (userEnabledNnpack == null)
            {
                throw new PlatformNotSupportedException("The NNPACK switch of libtorch is only reachable on Linux.");
            }

            return userEnabledNnpack(context);
        }
    }

    private static unsafe void DisableNnpack()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        // at::globalContext() and at::Context::setUserEnabledNNPACK(bool) are exported by libtorch_cpu.so
        // (Itanium C++ ABI names); TorchSharp does not wrap them.
        IntPtr library = NativeLibrary.Load("libtorch_cpu.so", typeof(torch).Assembly, DllImportSearchPath.AssemblyDirectory);
        var globalContext = (delegate* unmanaged<IntPtr>)NativeLibrary.GetExport(library, "_ZN2at13globalContextEv");
        var setEnabled = (delegate* unmanaged<IntPtr, bool, void>)NativeLibrary.GetExport(library, "_ZN2at7Context20setUserEnabledNNPACKEb");
        userEnabledNnpack = (delegate* unmanaged<IntPtr, bool>)NativeLibrary.GetExport(library, "_ZNK2at7Context17userEnabledNNPACKEv");
        context = globalContext();
        setEnabled(context, false);
    }
}
