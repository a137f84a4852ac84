using System.Collections.Immutable;
using System.Globalization;
using Containers.Spec;

namespace Containers.Cgroups.V1;

/// <summary>The v1 blkio controller: the weight (where the I/O scheduler offers one) and per-device throttles; bytes and operations moved.</summary>
internal static class V1Blkio
{
    public const string Name = "blkio";
    private const string Field = "linux.resources.blockIO";

    /// <summary>The weight files of the two proportional schedulers: CFQ's (kernels before 5.0) and BFQ's.</summary>
    private static readonly string[] WeightFiles = ["blkio.weight", "blkio.bfq.weight"];

    /// <summary>The per-device throttles, empty in a new cgroup.</summary>
    private static readonly string[] ThrottleFiles =
        ["blkio.throttle.read_bps_device", "blkio.throttle.write_bps_device", "blkio.throttle.read_iops_device", "blkio.throttle.write_iops_device"];

    /// <summary>The counters of the throttle layer and BFQ's, which <c>blkio.reset_stats</c> zeroes.</summary>
    private static readonly string[] CounterFiles =
        ["blkio.throttle.io_service_bytes", "blkio.throttle.io_serviced", "blkio.bfq.io_service_bytes", "blkio.bfq.io_serviced"];

    /// <summary>Whether the kernel has CFQ's <c>blkio.weight</c> (before 5.0), looked up once.</summary>
    private static bool? s_hasCfqWeight;

    public static bool Needed(LinuxResources resources) => resources.BlockIO is not null;

    public static void Validate(string dir, LinuxBlockIO io)
    {
        // A hierarchy's root has no weight file whatever the schedulers (BFQ's is one of every cgroup but the root),
        // and this process may be in the root: BFQ's counters, which the root has too, say its weight is offered.
        if (io.Weight is not null && !WeightFiles.Any(file => File.Exists(Path.Combine(dir, file))) && !File.Exists(Path.Combine(dir, "blkio.bfq.io_service_bytes")))
        {
            throw new CgroupException($"{Field}.weight", "this host's blkio controller has no weight (blkio.weight needs the BFQ or CFQ I/O scheduler): leave weight unset");
        }

        foreach (var (list, name) in Throttles(io))
        {
            for (var i = 0; i < list.Length; i++)
            {
                RequireBlockDevice(list[i], $"{Field}.{name}[{i}]");
            }
        }
    }

    /// <summary>
    /// Zeroes a released cgroup's counters (<c>blkio.reset_stats</c>) and says whether it then reads as a new one's
    /// (<see cref="V1Driver.Recycle"/>): no throttle, BFQ's default weight of 100, every counter 0. Not on a kernel
    /// with CFQ's <c>blkio.weight</c> (before 5.0), whose default this does not check.
    /// </summary>
    public static bool Renew(CgroupFiles files, string dir)
    {
        if ((s_hasCfqWeight ??= File.Exists(Path.Combine(dir, "blkio.weight")))
            || ThrottleFiles.Any(file => files.TryRead(dir, file) is not "")
            || files.TryRead(dir, "blkio.bfq.weight") is not (null or "100")
            || files.TryRead(dir, "blkio.bfq.weight_device") is not (null or "default 100"))
        {
            return false;
        }

        files.Write(dir, "blkio.reset_stats", "1", null);
        return CounterFiles.All(file => files.TryRead(dir, file) is not { } text || CgroupFile.IsZero(text));
    }

    public static void Apply(string dir, LinuxBlockIO io)
    {
        if (io.Weight is { } weight)
        {
            // CFQ's file and BFQ's: each device's scheduler reads its own, so the weight goes to every one there is.
            foreach (var file in WeightFiles)
            {
                if (File.Exists(Path.Combine(dir, file)))
                {
                    CgroupFile.Write(dir, file, weight, $"{Field}.weight");
                }
            }
        }

        Write(dir, "blkio.throttle.read_bps_device", io.ThrottleReadBpsDevice, $"{Field}.throttleReadBpsDevice");
        Write(dir, "blkio.throttle.write_bps_device", io.ThrottleWriteBpsDevice, $"{Field}.throttleWriteBpsDevice");
        Write(dir, "blkio.throttle.read_iops_device", io.ThrottleReadIopsDevice, $"{Field}.throttleReadIOPSDevice");
        Write(dir, "blkio.throttle.write_iops_device", io.ThrottleWriteIopsDevice, $"{Field}.throttleWriteIOPSDevice");
    }

    /// <summary>Bytes and operations read and written, from the throttle layer's counters (kept whatever the scheduler).</summary>
    public static (long ReadBytes, long WriteBytes, long ReadOps, long WriteOps) Read(CgroupFiles files, string dir)
    {
        var (readBytes, writeBytes) = Sum(files.TryRead(dir, "blkio.throttle.io_service_bytes"));
        var (readOps, writeOps) = Sum(files.TryRead(dir, "blkio.throttle.io_serviced"));
        return (readBytes, writeBytes, readOps, writeOps);
    }

    /// <summary>Throws unless the device is a block device this host has (<c>/sys/dev/block/MAJOR:MINOR</c>).</summary>
    public static void RequireBlockDevice(LinuxThrottleDevice device, string field)
    {
        if (!Directory.Exists($"/sys/dev/block/{device.Major}:{device.Minor}"))
        {
            throw new CgroupException(field, $"there is no block device {device.Major}:{device.Minor} on this host: name one from /sys/dev/block (or lsblk)");
        }
    }

    public static IEnumerable<(ImmutableArray<LinuxThrottleDevice> List, string Name)> Throttles(LinuxBlockIO io) =>
    [
        (io.ThrottleReadBpsDevice, "throttleReadBpsDevice"),
        (io.ThrottleWriteBpsDevice, "throttleWriteBpsDevice"),
        (io.ThrottleReadIopsDevice, "throttleReadIOPSDevice"),
        (io.ThrottleWriteIopsDevice, "throttleWriteIOPSDevice"),
    ];

    private static void Write(string dir, string file, ImmutableArray<LinuxThrottleDevice> devices, string field)
    {
        for (var i = 0; i < devices.Length; i++)
        {
            var d = devices[i];
            CgroupFile.Write(dir, file, string.Create(CultureInfo.InvariantCulture, $"{d.Major}:{d.Minor} {d.Rate}"), $"{field}[{i}]");
        }
    }

    // Lines "8:0 Read 4096", "8:0 Write 0", ..., "Total 4096".
    private static (long Read, long Write) Sum(string? text)
    {
        long read = 0, write = 0;
        foreach (var line in (text ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = line.Split(' ');
            if (parts.Length == 3 && long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var n))
            {
                if (parts[1] == "Read")
                {
                    read += n;
                }
                else if (parts[1] == "Write")
                {
                    write += n;
                }
            }
        }

        return (read, write);
    }
}
