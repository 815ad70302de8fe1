#nullable enable
// MSBuild inline task (RoslynCodeTaskFactory, compiled against netstandard2.0). Makes TorchSharp's native shim load on systems whose
// libstdc++ is older than the one it was linked against (Debian 12 ships GLIBCXX_3.4.30; TorchSharp
// 0.107 asks for GLIBCXX_3.4.32). The only symbol of that version is std::ios_base_library_init(), a
// marker with no relocation, so marking that one version requirement WEAK in .gnu.version_r is safe:
// the dynamic loader then accepts its absence. Only versions on the allow-list are ever weakened, the
// file is replaced (never written through a hard link into the package cache), and a file that is
// already patched, or a system that has the version, is left alone.
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

public class WeakenGlibcxxRequirement : Task
{
    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const ushort VerFlgWeak = 0x2;

    /// <summary>Native libraries to inspect (missing files are ignored).</summary>
    [Required]
    public ITaskItem[] Files { get; set; } = Array.Empty<ITaskItem>();

    /// <summary>Version names that are known to be marker-only and so may be weakened.</summary>
    [Required]
    public string[] WeakenableVersions { get; set; } = Array.Empty<string>();

    /// <summary>Candidate paths of the system's libstdc++ (the first that exists is read).</summary>
    [Required]
    public string[] LibStdCxxCandidates { get; set; } = Array.Empty<string>();

    public override bool Execute()
    {
        string? libstdcxx = LibStdCxxCandidates.FirstOrDefault(File.Exists);
        if (libstdcxx is null)
        {
            Log.LogMessage(MessageImportance.Low, "No system libstdc++ found; nothing to patch.");
            return true;
        }

        byte[] system = File.ReadAllBytes(libstdcxx);
        var missing = new HashSet<string>(WeakenableVersions.Where(v => !Contains(system, Encoding.ASCII.GetBytes(v + "\0"))));
        if (missing.Count == 0)
        {
            Log.LogMessage(MessageImportance.Low, $"{libstdcxx} provides {string.Join(", ", WeakenableVersions)}; nothing to patch.");
            return true;
        }

        foreach (var item in Files)
        {
            string path = item.ItemSpec;
            if (!File.Exists(path))
            {
                continue;
            }

            byte[] elf = File.ReadAllBytes(path);
            List<string> weakened;
            try
            {
                weakened = Weaken(elf, missing);
            }
            catch (InvalidDataException ex)
            {
                Log.LogError($"{path}: cannot patch the ELF version requirements: {ex.Message}");
                return false;
            }

            if (weakened.Count == 0)
            {
                Log.LogMessage(MessageImportance.Low, $"{path}: already loadable against {libstdcxx}.");
                continue;
            }

            // Write a new file and move it over the old one: the old one may be a hard link into the
            // NuGet package cache, which must stay untouched.
            string temp = path + ".tsviz-patch";
            File.WriteAllBytes(temp, elf);
            File.Delete(path);
            File.Move(temp, path);
            Log.LogMessage(MessageImportance.High,
                $"Patched {Path.GetFileName(path)}: marked {string.Join(", ", weakened)} weak ({libstdcxx} lacks it).");
        }

        return true;
    }

    private static List<string> Weaken(byte[] elf, HashSet<string> versions)
    {
        var changed = new List<string>();
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
        {
            throw new InvalidDataException("not an ELF file");
        }

        if (elf[4] != 2 || elf[5] != 1)
        {
            throw new InvalidDataException("only little-endian ELF64 is supported");
        }

        ulong shoff = BitConverter.ToUInt64(elf, 0x28);
        ushort shentsize = BitConverter.ToUInt16(elf, 0x3A);
        ushort shnum = BitConverter.ToUInt16(elf, 0x3C);
        for (int i = 0; i < shnum; i++)
        {
            long sh = checked((long)shoff + (long)i * shentsize);
            uint type = BitConverter.ToUInt32(elf, (int)sh + 4);
            if (type != ShtGnuVerneed)
            {
                continue;
            }

            long offset = (long)BitConverter.ToUInt64(elf, (int)sh + 0x18);
            uint link = BitConverter.ToUInt32(elf, (int)sh + 0x28);
            long strtab = (long)BitConverter.ToUInt64(elf, checked((int)((long)shoff + (long)link * shentsize + 0x18)));

            long need = offset;
            while (true)
            {
                ushort count = BitConverter.ToUInt16(elf, (int)need + 2);
                uint auxOffset = BitConverter.ToUInt32(elf, (int)need + 8);
                uint next = BitConverter.ToUInt32(elf, (int)need + 12);
                long aux = need + auxOffset;
                for (int a = 0; a < count; a++)
                {
                    ushort flags = BitConverter.ToUInt16(elf, (int)aux + 4);
                    uint nameOffset = BitConverter.ToUInt32(elf, (int)aux + 8);
                    uint auxNext = BitConverter.ToUInt32(elf, (int)aux + 12);
                    string name = ReadCString(elf, strtab + nameOffset);
                    if (versions.Contains(name) && (flags & VerFlgWeak) == 0)
                    {
                        BitConverter.GetBytes((ushort)(flags | VerFlgWeak)).CopyTo(elf, (int)aux + 4);
                        changed.Add(name);
                    }

                    aux += auxNext;
                }

                if (next == 0)
                {
                    break;
                }

                need += next;
            }
        }

        return changed;
    }

    private static string ReadCString(byte[] data, long start)
    {
        long end = start;
        while (end < data.Length && data[end] != 0)
        {
            end++;
        }

        return Encoding.ASCII.GetString(data, (int)start, (int)(end - start));
    }

    private static bool Contains(byte[] haystack, byte[] needle)
    {
        for (int i = 0; i + needle.Length <= haystack.Length; i++)
        {
            int j = 0;
            while (j < needle.Length && haystack[i + j] == needle[j])
            {
                j++;
            }

            if (j == needle.Length)
            {
                return true;
            }
        }

        return false;
    }
}
