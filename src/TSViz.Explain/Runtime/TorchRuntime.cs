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
    private static unsafe delegate* unmanaged<IntPtr, bool, void> setUserEnabledMkldnn;
    private static unsafe delegate* unmanaged<IntPtr, bool> userEnabledMkldnn;

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

    /// <summary>Whether libtorch uses oneDNN (MKL-DNN) for convolutions; true unless <see cref="DisableMkldnn"/> switched it off.</summary>
    public static unsafe bool IsMkldnnEnabled
    {
        get
        {
            EnsureInitialized();
            return userEnabledMkldnn == null || userEnabledMkldnn(context);
        }
    }

    /// <summary>
    /// Switches libtorch's oneDNN (MKL-DNN) convolutions off for the whole process. oneDNN's transposed convolution
    /// (the input gradient of a convolution) was found to give wrong values for batches of two or more windows on some
    /// small shapes (2 channels, 3 filters of width 3), while the forward pass and a batch of one are right; libtorch's
    /// own kernels are right but were measured 1.3-1.8x slower on the shipped models, so <see cref="Explainer"/> switches
    /// oneDNN off only for a model whose batched gradients disagree with one window at a time.
    /// </summary>
    /// <returns>Whether this call switched it off (false: it was off already, or the switch is not reachable).</returns>
    public static unsafe bool DisableMkldnn()
    {
        EnsureInitialized();
        lock (Gate)
        {
            if (setUserEnabledMkldnn == null || !userEnabledMkldnn(context))
            {
                return false;
            }

            setUserEnabledMkldnn(context, false);
            return true;
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
        setUserEnabledMkldnn = (delegate* unmanaged<IntPtr, bool, void>)NativeLibrary.GetExport(library, "_ZN2at7Context20setUserEnabledMkldnnEb");
        userEnabledMkldnn = (delegate* unmanaged<IntPtr, bool>)NativeLibrary.GetExport(library, "_ZNK2at7Context17userEnabledMkldnnEv");
        context = globalContext();
        setEnabled(context, false);
    }
}
