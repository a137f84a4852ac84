using System.Globalization;
using Containers.Cli.CommandLine;
using Containers.Spec;

namespace Containers.Cli.Commands;

/// <summary>Docker's resource flags (<c>run</c> and <c>update</c>), turned into <c>linux.resources</c> with Docker's meanings.</summary>
internal static class ResourceOptions
{
    /// <summary>The flags, for a command's option list.</summary>
    public static readonly OptionSpec[] Options =
    [
        OptionSpec.Value("memory", 'm', "bytes", "Memory limit (for example 512m, 2g)"),
        OptionSpec.Value("memory-reservation", null, "bytes", "Memory soft limit"),
        OptionSpec.Value("memory-swap", null, "bytes", "Memory plus swap limit; -1 for unlimited swap (default: twice --memory)"),
        OptionSpec.Value("memory-high", null, "bytes", "Memory throttle (cgroup v2 memory.high; not a Docker flag): reclaim and slow down past it, never OOM-kill; -1 for none"),
        OptionSpec.Value("cpus", null, "decimal", "Number of CPUs' worth of time (for example 1.5)"),
        OptionSpec.Value("cpu-shares", 'c', "int", "CPU weight against other containers (1024 is normal)"),
        OptionSpec.Value("cpuset-cpus", null, "string", "CPUs to run on (0-3, 0,1)"),
        OptionSpec.Value("cpuset-mems", null, "string", "Memory nodes to allocate from (0-3, 0,1)"),
        OptionSpec.Value("pids-limit", null, "int", "Most tasks the container may hold (-1 for unlimited)"),
        OptionSpec.Value("blkio-weight", null, "int", "Block I/O weight against other containers (10 to 1000)"),
        OptionSpec.Value("device-read-bps", null, "list", "Read rate limit of a device (DEVICE:RATE, for example /dev/sda:1mb)"),
        OptionSpec.Value("device-write-bps", null, "list", "Write rate limit of a device (DEVICE:RATE)"),
        OptionSpec.Value("device-read-iops", null, "list", "Read operations per second of a device (DEVICE:N)"),
        OptionSpec.Value("device-write-iops", null, "list", "Write operations per second of a device (DEVICE:N)"),
    ];

    private static readonly string[] Names = [.. Options.Select(o => o.Name)];

    /// <summary>Whether any resource flag was given.</summary>
    public static bool Any(Invocation invocation) => Names.Any(n => invocation.Values(n).Count > 0);

    /// <summary>The resources the flags ask for, on top of <paramref name="resources"/>.</summary>
    /// <exception cref="UsageException">A value is malformed; the message names the flag.</exception>
    public static LinuxResources Apply(Invocation invocation, LinuxResources resources)
    {
        var memory = resources.Memory;
        if (invocation.Value("memory") is { } m)
        {
            var limit = Bytes(invocation, "memory", m);

            // Docker: without --memory-swap the container may swap as much again as its memory.
            memory = (memory ?? new LinuxMemory()) with { Limit = limit, Swap = invocation.Value("memory-swap") is null ? limit * 2 : memory?.Swap };
        }

        if (invocation.Value("memory-swap") is { } swap)
        {
            memory = (memory ?? new LinuxMemory()) with { Swap = swap == "-1" ? -1 : Bytes(invocation, "memory-swap", swap) };
        }

        if (invocation.Value("memory-reservation") is { } reservation)
        {
            memory = (memory ?? new LinuxMemory()) with { Reservation = Bytes(invocation, "memory-reservation", reservation) };
        }

        var unified = resources.Unified;
        if (invocation.Value("memory-high") is { } high)
        {
            unified = unified.SetItem("memory.high", high == "-1" ? "max" : Bytes(invocation, "memory-high", high).ToString(CultureInfo.InvariantCulture));
        }

        var cpu = resources.Cpu;
        if (invocation.Value("cpus") is { } cpus)
        {
            if (!double.TryParse(cpus, NumberStyles.Float, CultureInfo.InvariantCulture, out var n) || n <= 0)
            {
                throw new UsageException($"--cpus '{cpus}': give a positive number of CPUs, such as 0.5 or 2", invocation.Path);
            }

            cpu = (cpu ?? new LinuxCpu()) with { Quota = (long)Math.Round(n * 100_000), Period = 100_000 };
        }

        if (invocation.Value("cpu-shares") is { } shares)
        {
            cpu = (cpu ?? new LinuxCpu()) with { Shares = (ulong)Number(invocation, "cpu-shares", shares) };
        }

        if (invocation.Value("cpuset-cpus") is { } set)
        {
            cpu = (cpu ?? new LinuxCpu()) with { Cpus = set };
        }

        if (invocation.Value("cpuset-mems") is { } mems)
        {
            cpu = (cpu ?? new LinuxCpu()) with { Mems = mems };
        }

        var pids = resources.Pids;
        if (invocation.Value("pids-limit") is { } p)
        {
            var limit = long.TryParse(p, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l) ? l
                : throw new UsageException($"--pids-limit '{p}': give a number of tasks, or -1 for unlimited", invocation.Path);
            pids = new LinuxPids(limit <= 0 ? -1 : limit);
        }

        var io = resources.BlockIO;
        if (invocation.Value("blkio-weight") is { } weight)
        {
            var w = Number(invocation, "blkio-weight", weight);
            io = (io ?? new LinuxBlockIO()) with
            {
                Weight = w is >= 10 and <= 1000 ? (ushort)w : throw new UsageException($"--blkio-weight '{weight}': give a weight from 10 to 1000", invocation.Path),
            };
        }

        if (Throttles(invocation, "device-read-bps", bytes: true) is { Length: > 0 } readBps)
        {
            io = (io ?? new LinuxBlockIO()) with { ThrottleReadBpsDevice = [.. readBps] };
        }

        if (Throttles(invocation, "device-write-bps", bytes: true) is { Length: > 0 } writeBps)
        {
            io = (io ?? new LinuxBlockIO()) with { ThrottleWriteBpsDevice = [.. writeBps] };
        }

        if (Throttles(invocation, "device-read-iops", bytes: false) is { Length: > 0 } readIops)
        {
            io = (io ?? new LinuxBlockIO()) with { ThrottleReadIopsDevice = [.. readIops] };
        }

        if (Throttles(invocation, "device-write-iops", bytes: false) is { Length: > 0 } writeIops)
        {
            io = (io ?? new LinuxBlockIO()) with { ThrottleWriteIopsDevice = [.. writeIops] };
        }

        return resources with { Memory = memory, Cpu = cpu, Pids = pids, BlockIO = io, Unified = unified };
    }

    /// <summary>Docker's byte sizes: a number with an optional b, k, m or g (powers of 1024).</summary>
    internal static long Bytes(Invocation invocation, string flag, string text)
    {
        var t = text.Trim().ToLowerInvariant();
        if (t.EndsWith('b') && t.Length > 1 && !char.IsDigit(t[^2]))
        {
            t = t[..^1];
        }

        long unit = t.Length == 0 ? 1 : t[^1] switch { 'k' => 1L << 10, 'm' => 1L << 20, 'g' => 1L << 30, 't' => 1L << 40, 'b' => 1, _ => 1 };
        var digits = unit != 1 || t.EndsWith('b') ? t[..^1] : t;
        if (!double.TryParse(digits, NumberStyles.Float, CultureInfo.InvariantCulture, out var n) || n < 0)
        {
            throw new UsageException($"--{flag} '{text}': give a size such as 512m, 1g or 1048576", invocation.Path);
        }

        return (long)(n * unit);
    }

    private static long Number(Invocation invocation, string flag, string text) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n
            : throw new UsageException($"--{flag} '{text}': give a whole number", invocation.Path);

    private static LinuxThrottleDevice[] Throttles(Invocation invocation, string flag, bool bytes) =>
        [.. invocation.Values(flag).Select(value =>
        {
            var colon = value.LastIndexOf(':');
            if (colon <= 0)
            {
                throw new UsageException($"--{flag} '{value}': use DEVICE:{(bytes ? "RATE" : "N")}, for example /dev/sda:{(bytes ? "1mb" : "1000")}", invocation.Path);
            }

            var (major, minor) = DeviceNumbers(invocation, flag, value[..colon]);
            var rate = bytes ? Bytes(invocation, flag, value[(colon + 1)..]) : Number(invocation, flag, value[(colon + 1)..]);
            return new LinuxThrottleDevice { Major = major, Minor = minor, Rate = (ulong)rate };
        })];

    /// <summary>A block device's numbers, from sysfs (<c>/sys/class/block/NAME/dev</c>) after resolving links such as /dev/disk/by-id.</summary>
    private static (long Major, long Minor) DeviceNumbers(Invocation invocation, string flag, string device)
    {
        var resolved = new FileInfo(device).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? device;
        var text = File.Exists($"/sys/class/block/{Path.GetFileName(resolved)}/dev")
            ? File.ReadAllText($"/sys/class/block/{Path.GetFileName(resolved)}/dev").Trim()
            : throw new UsageException($"--{flag}: '{device}' is not a block device of this host (see lsblk)", invocation.Path);
        var parts = text.Split(':');
        return (long.Parse(parts[0], CultureInfo.InvariantCulture), long.Parse(parts[1], CultureInfo.InvariantCulture));
    }
}
