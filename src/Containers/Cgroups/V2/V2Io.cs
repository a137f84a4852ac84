using System.Globalization;
using Containers.Spec;

namespace Containers.Cgroups.V2;

/// <summary>The v2 io controller: <c>io.weight</c> and per-device <c>io.max</c>; bytes and operations from <c>io.stat</c>.</summary>
internal static class V2Io
{
    public const string Name = "io";
    private const string Field = "linux.resources.blockIO";

    public static void Validate(string dir, LinuxBlockIO io)
    {
        if (io.Weight is not null && !File.Exists(Path.Combine(dir, "io.weight")) && !File.Exists(Path.Combine(dir, "io.bfq.weight")))
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

    public static void Apply(string dir, LinuxBlockIO io)
    {
        if (io.Weight is { } weight)
        {
            var file = File.Exists(Path.Combine(dir, "io.weight")) ? "io.weight" : "io.bfq.weight";
            CgroupFile.Write(dir, file, string.Create(CultureInfo.InvariantCulture, $"default {weight}"), $"{Field}.weight");
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
