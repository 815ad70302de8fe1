using System.Runtime.InteropServices;
using TSViz.Monitor.Settings;

namespace TSViz.Monitor.Live;

/// <summary>
/// Which C allocator `run` serves native memory from (libtorch, ONNX Runtime, SQLite), chosen by
/// <see cref="HealthSettings.NativeAllocator"/>. The allocator is fixed when the process starts, long before any managed
/// code runs, so it can only come from the environment: when the environment does not already ask for it, the process
/// replaces itself once (execve: same PID, same arguments) with the variables added. glibc under the live path's churn
/// of tensor buffers kept ever more freed, fragmented memory (issue 13's one-hour soak grew 150 MiB at 10,000
/// samples/s with two arenas, a 1 MiB mmap threshold and a trim every minute); jemalloc returns whole freed pages to
/// the system after <see cref="JemallocDecayMilliseconds"/>.
/// </summary>
internal static class NativeAllocator
{
    public const string Auto = "auto";
    public const string Jemalloc = "jemalloc";
    public const string Glibc = "glibc";

    /// <summary>The values <see cref="HealthSettings.NativeAllocator"/> accepts.</summary>
    public static readonly IReadOnlyList<string> Choices = [Auto, Jemalloc, Glibc];

    /// <summary>jemalloc returns freed pages this long after their last use (dirty decay; nothing is kept "muzzy").</summary>
    public const int JemallocDecayMilliseconds = 1000;

    private const string Preload = "LD_PRELOAD";
    private const string JemallocConfig = "MALLOC_CONF";
    private const string Tunables = "GLIBC_TUNABLES";
    private const string ArenaMaxTunable = "glibc.malloc.arena_max";
    private const string JemallocLibrary = "libjemalloc.so.2";

    /// <summary>Where Debian's <c>libjemalloc2</c> (and other distributions' jemalloc) puts the library.</summary>
    public static string? FindJemalloc()
    {
        string multiarch = RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.X64 => "x86_64-linux-gnu",
            Architecture.Arm64 => "aarch64-linux-gnu",
            _ => "",
        };
        string[] candidates =
        [
            $"/usr/lib/{multiarch}/{JemallocLibrary}", $"/lib/{multiarch}/{JemallocLibrary}",
            $"/usr/lib64/{JemallocLibrary}", $"/usr/lib/{JemallocLibrary}", $"/usr/local/lib/{JemallocLibrary}",
        ];
        return candidates.FirstOrDefault(File.Exists);
    }

    /// <summary>
    /// The environment variables to add so the process runs with <paramref name="allocator"/>, and a warning for the
    /// start-up log when what was asked for cannot be had. Empty when the environment already has what is needed, or
    /// when the operator's own <c>LD_PRELOAD</c>, <c>MALLOC_CONF</c> or <c>GLIBC_TUNABLES</c> decide it (theirs win).
    /// </summary>
    /// <param name="allocator">auto (jemalloc when installed, else glibc), jemalloc, or glibc; anything else: nothing (the validator names the key).</param>
    /// <param name="arenas">Arenas of either allocator; 0: the allocator's default.</param>
    /// <param name="environment">The current environment.</param>
    /// <param name="jemallocPath">Where jemalloc is installed, or null.</param>
    public static (IReadOnlyDictionary<string, string> Add, string? Warning) Plan(string allocator, int arenas, Func<string, string?> environment, string? jemallocPath)
    {
        ArgumentNullException.ThrowIfNull(environment);
        string choice = (allocator ?? "").Trim().ToLowerInvariant();
        var add = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!Choices.Contains(choice))
        {
            return (add, null);
        }

        string preload = environment(Preload) ?? "";
        if (preload.Contains("jemalloc", StringComparison.Ordinal))
        {
            return (add, null); // already running on it (this is the process after its re-execution, or the operator's own)
        }

        string? warning = null;
        if (choice != Glibc)
        {
            if (preload.Length > 0)
            {
                return (add, $"{Preload} is set ({preload}): left as it is, Monitor:Health:NativeAllocator ({choice}) not applied");
            }

            if (jemallocPath is not null)
            {
                add[Preload] = jemallocPath;
                if (string.IsNullOrEmpty(environment(JemallocConfig)))
                {
                    // A background thread purges on time, not only when another allocation happens to pass by.
                    string config = FormattableString.Invariant($"background_thread:true,dirty_decay_ms:{JemallocDecayMilliseconds},muzzy_decay_ms:0");
                    add[JemallocConfig] = arenas > 0 ? FormattableString.Invariant($"{config},narenas:{arenas}") : config;
                }

                return (add, null);
            }

            // Explicit jemalloc without the library is refused by `run` itself (RunVerb), naming the key.
            warning = choice == Auto
                ? "jemalloc is not installed (Debian: apt-get install libjemalloc2): the native heap runs on glibc, whose resident memory can grow under a sustained high rate (docs/live-monitor.md, \"Memory\")"
                : null;
        }

        string tunables = environment(Tunables) ?? "";
        if (arenas > 0 && !tunables.Contains(ArenaMaxTunable, StringComparison.Ordinal))
        {
            string setting = FormattableString.Invariant($"{ArenaMaxTunable}={arenas}");
            add[Tunables] = tunables.Length == 0 ? setting : $"{tunables}:{setting}";
        }

        return (add, warning);
    }

    /// <summary>
    /// Makes the process run with the configured allocator: when <see cref="Plan"/> asks for variables, the process
    /// replaces itself with them added. Returns when nothing is to be done, or when execve failed (with a warning).
    /// </summary>
    public static void EnsureConfigured(string allocator, int arenas)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        var (add, warning) = Plan(allocator, arenas, Environment.GetEnvironmentVariable, FindJemalloc());
        if (warning is not null)
        {
            Console.Error.WriteLine($"warning: {warning}");
        }

        if (add.Count == 0)
        {
            return;
        }

        string[] argv;
        try
        {
            argv = File.ReadAllText("/proc/self/cmdline").Split('\0', StringSplitOptions.None)[..^1];
        }
        catch (IOException)
        {
            return;
        }

        var environment = Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
            .Where(e => !add.ContainsKey((string)e.Key))
            .Select(e => $"{e.Key}={e.Value}")
            .Concat(add.Select(e => $"{e.Key}={e.Value}"));
        Console.Out.Flush();
        Console.Error.Flush();
        // The executable by its own path, not /proc/self/exe, so the process keeps its name (ps, top, systemd).
        string executable = Environment.ProcessPath ?? "/proc/self/exe";
        if (ExecveNative(executable, [.. argv, null], [.. environment, null]) != 0) // returns only on failure
        {
            Console.Error.WriteLine($"warning: could not restart with {string.Join(" ", add.Select(e => $"{e.Key}={e.Value}"))} (errno {Marshal.GetLastPInvokeError()}); running on the allocator's defaults, resident memory may creep up (docs/live-monitor.md, \"Memory\")");
        }
    }

    [DllImport("libc", EntryPoint = "execve", SetLastError = true)]
    private static extern int ExecveNative(string path, string?[] argv, string?[] envp);
}
