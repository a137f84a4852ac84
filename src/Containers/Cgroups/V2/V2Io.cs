using System.Globalization;
using Containers.Spec;

namespace Containers.Cgroups.V2;

/// <summary>The v2 io controller: <c>io.weight</c> and <c>io.bfq.weight</c>, per-device <c>io.max</c>; bytes and operations from <c>io.stat</c>.</summary>
internal static class V2Io
{
    public const string Name = "io";
    private const string Field = "linux.resources.blockIO";

    /// <summary>The weight files of the two proportional schedulers: io.cost's and BFQ's.</summary>
    private static readonly string[] WeightFiles = ["io.weight", "io.bfq.weight"];

    /// <summary>Refuses what the host cannot apply; <paramref name="sysBlock"/> is where the block devices are listed.</summary>
    public static void Validate(string dir, LinuxBlockIO io, string sysBlock = "/sys/block")
    {
        // The root has no weight file whatever the schedulers (both are files of every cgroup but the root), and the
        // cgroup below which containers go may be the root: there io.cost shows in its root-only io.cost.qos, and
        // BFQ in the schedulers the block devices offer.
        if (io.Weight is not null && !WeightFiles.Any(file => File.Exists(Path.Combine(dir, file)))
            && !File.Exists(Path.Combine(dir, "io.cost.qos")) && !BfqOffered(sysBlock))
        {
            throw new CgroupException($"{Field}.weight", "this host's io controller has no weight (io.weight needs the BFQ scheduler or io.cost): leave weight unset");
        }

        foreach (var (list, name) in V1.V1Blkio.Throttles(io))
        {
            for (var i = 0; i < list.Length; i++)
            {
                V1.V1Blkio.RequireBlockDevice(list[i], $"{Field}.{name}[{i}]");
            }
        }
    }

    /// <summary>Whether a block device offers the BFQ scheduler: the kernel has it (built in, or its module loaded).</summary>
    private static bool BfqOffered(string sysBlock)
    {
        try
        {
            return Directory.EnumerateDirectories(sysBlock)
                .Any(device => Linux.LibC.TryReadText(Path.Combine(device, "queue", "scheduler")) is { } list && list.Contains("bfq", StringComparison.Ordinal));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    public static void Apply(string dir, LinuxBlockIO io)
    {
        if (io.Weight is { } weight)
        {
            // Each device's scheduler reads its own file: io.weight is io.cost's (a device with io.cost enabled), and
            // io.bfq.weight BFQ's. A kernel with both (Debian's, once BFQ is loaded) has both files whatever the
            // devices use, so the weight goes to every one there is: written to io.weight alone, it would not reach
            // a BFQ device. Both take 10-1000, the spec's range, as the spec's value (default 100 in each).
            var value = string.Create(CultureInfo.InvariantCulture, $"default {weight}");
            foreach (var file in WeightFiles)
            {
                if (File.Exists(Path.Combine(dir, file)))
                {
                    CgroupFile.Write(dir, file, value, $"{Field}.weight");
                }
            }
        }

        Write(dir, io.ThrottleReadBpsDevice, "rbps", $"{Field}.throttleReadBpsDevice");
        Write(dir, io.ThrottleWriteBpsDevice, "wbps", $"{Field}.throttleWriteBpsDevice");
        Write(dir, io.ThrottleReadIopsDevice, "riops", $"{Field}.throttleReadIOPSDevice");
        Write(dir, io.ThrottleWriteIopsDevice, "wiops", $"{Field}.throttleWriteIOPSDevice");
    }

    /// <summary>Sums of <c>rbytes</c>, <c>wbytes</c>, <c>rios</c>, <c>wios</c> over the devices of <c>io.stat</c>.</summary>
    public static (long ReadBytes, long WriteBytes, long ReadOps, long WriteOps) Read(CgroupFiles files, string dir)
    {
        long rb = 0, wb = 0, ro = 0, wo = 0;
        foreach (var line in (files.TryRead(dir, "io.stat") ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            foreach (var pair in line.Split(' ').Skip(1))
            {
                var eq = pair.IndexOf('=', StringComparison.Ordinal);
                if (eq < 0 || !long.TryParse(pair.AsSpan(eq + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var n))
                {
                    continue;
                }

                switch (pair[..eq])
                {
                    case "rbytes": rb += n; break;
                    case "wbytes": wb += n; break;
                    case "rios": ro += n; break;
                    case "wios": wo += n; break;
                }
            }
        }

        return (rb, wb, ro, wo);
    }

    private static void Write(string dir, System.Collections.Immutable.ImmutableArray<LinuxThrottleDevice> devices, string key, string field)
    {
        for (var i = 0; i < devices.Length; i++)
        {
            var d = devices[i];
            var rate = d.Rate == 0 ? "max" : d.Rate.ToString(CultureInfo.InvariantCulture);
            CgroupFile.Write(dir, "io.max", string.Create(CultureInfo.InvariantCulture, $"{d.Major}:{d.Minor} {key}={rate}"), $"{field}[{i}]");
        }
    }
}
