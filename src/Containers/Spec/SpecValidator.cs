using System.Globalization;

namespace Containers.Spec;

/// <summary>The rules behind <see cref="ContainerSpec.Validate"/>, one method per section of <c>config.json</c>.</summary>
internal static partial class SpecValidator
{
    private const uint MaxUmask = 0b111_111_111; // 0777

    public static IReadOnlyList<SpecError> Validate(ContainerSpec spec)
    {
        var errors = new List<SpecError>();
        if (string.IsNullOrEmpty(spec.OciVersion))
        {
            errors.Add(new("ociVersion", $"must not be empty: use \"{ContainerSpec.CurrentOciVersion}\""));
        }

        if (spec.Process is null)
        {
            errors.Add(new("process", "must be set: give the program to run"));
        }
        else
        {
            ValidateProcess(spec.Process, errors);
        }

        if (spec.Root?.Path is { Length: > 0 } rootPath && rootPath[0] != '/')
        {
            errors.Add(new("root.path", $"must be an absolute path (starting with '/'), got '{rootPath}': "
                + "for a bundle's config.json, resolve it with ResolveBundlePaths(bundleDirectory)"));
        }
        else if (spec.Root is { Path: not null } root)
        {
            RequireAbsolute(root.Path, "root.path", errors);
        }

        if (!string.IsNullOrEmpty(spec.Hostname) && spec.Linux?.FindNamespace(NamespaceType.Uts) is not { Path: null })
        {
            errors.Add(new("hostname", "needs a new uts namespace: add {\"type\": \"uts\"} without a path to linux.namespaces"));
        }

        for (int i = 0; i < spec.Mounts.Length; i++)
        {
            if (NotNull(spec.Mounts[i], $"mounts[{i}]", errors) is { } mount)
            {
                ValidateMount(mount, $"mounts[{i}]", errors);
            }
        }

        if (spec.Linux is { } linux)
        {
            ValidateLinux(linux, errors);
        }

        RequireMountNamespace(spec, errors);
        RejectUnsupported(spec, errors);
        return errors;
    }

    // Mounts, masks and a root of its own are made in the container's mount namespace: without a new one there is
    // nowhere to make them, and running without them would drop them silently.
    private static void RequireMountNamespace(ContainerSpec spec, List<SpecError> errors)
    {
        if (spec.Linux?.FindNamespace(NamespaceType.Mount) is { Path: null })
        {
            return;
        }

        const string Remedy = "needs a new mount namespace: add {\"type\": \"mount\"} without a path to linux.namespaces";
        if (spec.Root is not null)
        {
            errors.Add(new("root", Remedy));
        }

        if (!spec.Mounts.IsEmpty)
        {
            errors.Add(new("mounts", Remedy));
        }

        if (spec.Linux is { MaskedPaths.IsEmpty: false })
        {
            errors.Add(new("linux.maskedPaths", Remedy));
        }

        if (spec.Linux is { ReadonlyPaths.IsEmpty: false })
        {
            errors.Add(new("linux.readonlyPaths", Remedy));
        }

        if (spec.Linux is { Devices.IsEmpty: false })
        {
            errors.Add(new("linux.devices", Remedy));
        }
    }

    private static void ValidateProcess(ProcessSpec process, List<SpecError> errors)
    {
        if (process.OomScoreAdj is < -1000 or > 1000)
        {
            errors.Add(new("process.oomScoreAdj", $"must be between -1000 and 1000, got {process.OomScoreAdj}"));
        }

        if (process.Args.IsEmpty)
        {
            errors.Add(new("process.args", "must not be empty: give the program to run"));
        }
        else if (string.IsNullOrEmpty(process.Args[0]))
        {
            errors.Add(new("process.args[0]", "must not be empty: give the program's absolute path or a name found in PATH"));
        }

        for (int i = 1; i < process.Args.Length; i++)
        {
            NotNull(process.Args[i], $"process.args[{i}]", errors);
        }

        for (int i = 0; i < process.Env.Length; i++)
        {
            string entry = process.Env[i] ?? "";
            if (entry.IndexOf('=', StringComparison.Ordinal) <= 0)
            {
                errors.Add(new($"process.env[{i}]", $"must be KEY=VALUE with a non-empty KEY, got '{entry}'"));
            }
        }

        RequireAbsolute(process.Cwd, "process.cwd", errors);
        if (process.Capabilities is { } capabilities)
        {
            ValidateCapabilities(capabilities, errors);
        }

        if (process.ConsoleSize is not null && !process.Terminal)
        {
            errors.Add(new("process.consoleSize", "needs process.terminal to be true: a console size applies only to a terminal"));
        }

        if (process.User.Umask is > MaxUmask)
        {
            errors.Add(new("process.user.umask", $"must be at most 0777 (511), got {process.User.Umask}"));
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < process.Rlimits.Length; i++)
        {
            string path = $"process.rlimits[{i}]";
            if (NotNull(process.Rlimits[i], path, errors) is not { } limit)
            {
                continue;
            }

            if (!PosixRlimit.KnownTypes.Contains(limit.Type, StringComparer.Ordinal))
            {
                errors.Add(new($"{path}.type", $"unknown resource limit '{limit.Type}': use an RLIMIT_* name from setrlimit(2), such as RLIMIT_NOFILE"));
            }
            else if (!seen.Add(limit.Type))
            {
                errors.Add(new($"{path}.type", $"{limit.Type} is set more than once: keep one entry"));
            }

            if (limit.Soft > limit.Hard)
            {
                errors.Add(new($"{path}.soft", $"must not exceed hard ({limit.Hard}), got {limit.Soft}"));
            }
        }
    }

    private static void ValidateMount(MountSpec mount, string path, List<SpecError> errors)
    {
        if (RequireAbsolute(mount.Destination, $"{path}.destination", errors)
            && mount.Destination.Split('/').Contains(".."))
        {
            errors.Add(new($"{path}.destination", $"must not contain '..' components, got '{mount.Destination}'"));
        }

        if (mount.IsBind && string.IsNullOrEmpty(mount.Source))
        {
            errors.Add(new($"{path}.source", "must not be empty for a bind mount: give the host path to bind"));
        }

        for (int i = 0; i < mount.Options.Length; i++)
        {
            if (NotNull(mount.Options[i], $"{path}.options[{i}]", errors) is { } option)
            {
                RejectUnsupportedMountOption(mount, option, $"{path}.options[{i}]", errors);
            }
        }

        if (string.IsNullOrEmpty(mount.Type))
        {
            errors.Add(new($"{path}.type", "must not be empty: use a filesystem type such as bind, tmpfs or proc"));
        }
        else if (mount.Type == "tmpfs")
        {
            foreach (string? option in mount.Options)
            {
                if (option is not null && option.StartsWith("size=", StringComparison.Ordinal) && !IsTmpfsSize(option["size=".Length..]))
                {
                    errors.Add(new($"{path}.options", $"'{option}' is not a tmpfs size: use bytes with an optional k, m or g suffix, or a percentage such as 50%"));
                }
            }
        }
    }

    private static void ValidateLinux(LinuxSpec linux, List<SpecError> errors)
    {
        var seen = new HashSet<NamespaceType>();
        for (int i = 0; i < linux.Namespaces.Length; i++)
        {
            string path = $"linux.namespaces[{i}]";
            if (NotNull(linux.Namespaces[i], path, errors) is not { } ns)
            {
                continue;
            }

            if (!NamespaceTypeNames.IsDefined(ns.Type))
            {
                errors.Add(new($"{path}.type", $"unknown namespace type {(int)ns.Type}: use one of {string.Join(", ", NamespaceTypeNames.All)}"));
            }
            else if (!seen.Add(ns.Type))
            {
                errors.Add(new($"{path}.type", $"the {ns.Type.ToOciName()} namespace is listed more than once: keep one entry"));
            }

            if (ns.Path is not null)
            {
                RequireAbsolute(ns.Path, $"{path}.path", errors);
            }
        }

        ValidateMappings(linux, linux.UidMappings, "linux.uidMappings", errors);
        ValidateMappings(linux, linux.GidMappings, "linux.gidMappings", errors);
        if (linux.Resources is { } resources)
        {
            ValidateResources(resources, errors);
        }

        if (linux.Seccomp is { } seccomp)
        {
            ValidateSeccomp(seccomp, errors);
        }

        ValidateDevices(linux, errors);
        for (int i = 0; i < linux.MaskedPaths.Length; i++)
        {
            RequireAbsolute(linux.MaskedPaths[i], $"linux.maskedPaths[{i}]", errors);
        }

        for (int i = 0; i < linux.ReadonlyPaths.Length; i++)
        {
            RequireAbsolute(linux.ReadonlyPaths[i], $"linux.readonlyPaths[{i}]", errors);
        }
    }

    private static void ValidateDevices(LinuxSpec linux, List<SpecError> errors)
    {
        if (!linux.Devices.IsEmpty && linux.FindNamespace(NamespaceType.User) is not null)
        {
            errors.Add(new("linux.devices", "device nodes cannot be made in a user namespace (mknod needs CAP_MKNOD in the host's): bind the host's node with a mount instead"));
        }

        var paths = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < linux.Devices.Length; i++)
        {
            var path = $"linux.devices[{i}]";
            if (NotNull(linux.Devices[i], path, errors) is not { } device)
            {
                continue;
            }

            if (RequireAbsolute(device.Path, $"{path}.path", errors) && (device.Path.TrimEnd('/') is "" or "/dev" || !paths.Add(device.Path)))
            {
                errors.Add(new($"{path}.path", $"'{device.Path}' is not a path a node can be made at, or is listed twice: give each node its own path, such as /dev/fuse"));
            }

            if (device.Type is not ("c" or "b" or "u" or "p"))
            {
                errors.Add(new($"{path}.type", $"must be 'c', 'b', 'u' or 'p', got '{device.Type}'"));
            }

            if (device.Major is < 0 or > 0xfff || device.Minor is < 0 or > 0xfffff)
            {
                errors.Add(new(path, $"major must be 0 to 4095 and minor 0 to 1048575, got {device.Major}:{device.Minor}"));
            }

            if (device.FileMode is > MaxUmask)
            {
                errors.Add(new($"{path}.fileMode", $"must hold only permission bits (at most 0777), got {Convert.ToString(device.FileMode.Value, 8)} in octal"));
            }
        }
    }

    private static void ValidateResources(LinuxResources resources, List<SpecError> errors)
    {
        const string path = "linux.resources";
        if (resources.Memory is { } memory)
        {
            RequireLimit(memory.Limit, $"{path}.memory.limit", "bytes", errors);
            RequireLimit(memory.Reservation, $"{path}.memory.reservation", "bytes", errors);
            RequireLimit(memory.Swap, $"{path}.memory.swap", "bytes", errors);
            if (memory.Limit is > 0 and < MinimumMemory)
            {
                errors.Add(new($"{path}.memory.limit", $"must be at least {MinimumMemory} bytes (one page, the kernel's unit of memory), got {memory.Limit}"));
            }

            if (memory is { Limit: > 0, Reservation: > 0 } && memory.Reservation > memory.Limit)
            {
                errors.Add(new($"{path}.memory.reservation", $"must not exceed memory.limit ({memory.Limit}): it is a soft limit below the hard one, got {memory.Reservation}"));
            }

            if (memory.Swappiness is > 100)
            {
                errors.Add(new($"{path}.memory.swappiness", $"must be between 0 and 100, got {memory.Swappiness}"));
            }
            if (memory is { Limit: > 0, Swap: > 0 } && memory.Swap < memory.Limit)
            {
                errors.Add(new($"{path}.memory.swap", $"must be at least memory.limit ({memory.Limit}): it limits memory plus swap, got {memory.Swap}"));
            }
        }

        ValidateMemoryHigh(resources, errors);

        if (resources.Cpu is { } cpu)
        {
            RequireLimit(cpu.Quota, $"{path}.cpu.quota", "microseconds", errors);
            if (cpu.Quota is > 0 and < 1_000)
            {
                errors.Add(new($"{path}.cpu.quota", $"must be at least 1000 microseconds (the kernel's minimum), or -1 for unlimited, got {cpu.Quota}"));
            }

            if (cpu.Idle is not (null or 0 or 1))
            {
                errors.Add(new($"{path}.cpu.idle", $"must be 0 or 1, got {cpu.Idle}"));
            }
            if (cpu.Period is < 1_000 or > 1_000_000)
            {
                errors.Add(new($"{path}.cpu.period", $"must be between 1000 and 1000000 microseconds, got {cpu.Period}"));
            }

            if (cpu.Shares is < 2)
            {
                errors.Add(new($"{path}.cpu.shares", $"must be at least 2, got {cpu.Shares}"));
            }

            RequireCpuList(cpu.Cpus, $"{path}.cpu.cpus", errors);
            RequireCpuList(cpu.Mems, $"{path}.cpu.mems", errors);
        }

        if (resources.Pids is { } pids)
        {
            RequireLimit(pids.Limit, $"{path}.pids.limit", "tasks", errors);
        }

        if (resources.BlockIO is { } io)
        {
            if (io.Weight is < 10 or > 1000)
            {
                errors.Add(new($"{path}.blockIO.weight", $"must be between 10 and 1000, got {io.Weight}"));
            }

            ValidateThrottles(io.ThrottleReadBpsDevice, $"{path}.blockIO.throttleReadBpsDevice", errors);
            ValidateThrottles(io.ThrottleWriteBpsDevice, $"{path}.blockIO.throttleWriteBpsDevice", errors);
            ValidateThrottles(io.ThrottleReadIopsDevice, $"{path}.blockIO.throttleReadIOPSDevice", errors);
            ValidateThrottles(io.ThrottleWriteIopsDevice, $"{path}.blockIO.throttleWriteIOPSDevice", errors);
        }

        for (var i = 0; i < resources.Devices.Length; i++)
        {
            if (NotNull(resources.Devices[i], $"{path}.devices[{i}]", errors) is not { } rule)
            {
                continue;
            }

            if (rule.Type is not (null or "a" or "b" or "c"))
            {
                errors.Add(new($"{path}.devices[{i}].type", $"must be 'a', 'b' or 'c', got '{rule.Type}'"));
            }

            if (rule.Access is { } access && (access.Length == 0 || access.Any(c => c is not ('r' or 'w' or 'm'))))
            {
                errors.Add(new($"{path}.devices[{i}].access", $"must be letters of 'rwm', got '{access}'"));
            }

            if (rule.Major is < 0 || rule.Minor is < 0)
            {
                errors.Add(new($"{path}.devices[{i}]", "major and minor must not be negative: leave one out to mean all"));
            }
        }
    }

    private const long MinimumMemory = 4096;

    // memory.high is the one key of linux.resources.unified this runtime writes (the others are refused in
    // SpecValidator.Unsupported.cs). A high above memory.limit is refused as a reservation above it is: usage never
    // passes the hard limit, so the throttle would never act, and a setting that cannot act is one dropped in silence.
    // The kernel itself takes it (the two are independent files). An update that sets only one of the two is checked
    // against the other as the cgroup holds it (Cgroups/MemoryInForce.cs), as with the reservation.
    private static void ValidateMemoryHigh(LinuxResources resources, List<SpecError> errors)
    {
        if (!resources.Unified.TryGetValue(UnifiedResources.MemoryHigh, out var text))
        {
            return;
        }

        var path = UnifiedResources.PathOf(UnifiedResources.MemoryHigh);
        if (!UnifiedResources.TryParseBytes(text, out var high))
        {
            errors.Add(new(path, long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var negative) && negative < 0
                ? $"must not be negative, got {text}: give a number of bytes, or 'max' for no throttle"
                : $"must be a number of bytes in decimal digits, or 'max', got '{text}'"));
        }
        else if (high is >= 0 and < MinimumMemory)
        {
            errors.Add(new(path, $"must be at least {MinimumMemory} bytes (one page, the kernel's unit of memory), or 'max', got {high}"));
        }
        else if (high > 0 && resources.Memory is { Limit: > 0 and var limit } && high > limit)
        {
            errors.Add(new(path, $"must not exceed memory.limit ({limit}): usage never passes the hard limit, so a throttle above it never acts, got {high}"));
        }
    }

    private static void ValidateThrottles(System.Collections.Immutable.ImmutableArray<LinuxThrottleDevice> devices, string path, List<SpecError> errors)
    {
        for (var i = 0; i < devices.Length; i++)
        {
            if (NotNull(devices[i], $"{path}[{i}]", errors) is { } device && (device.Major < 0 || device.Minor < 0))
            {
                errors.Add(new($"{path}[{i}]", $"major and minor must not be negative, got {device.Major}:{device.Minor}"));
            }
        }
    }

    private static void RequireLimit(long? value, string path, string unit, List<SpecError> errors)
    {
        if (value is <= 0 and not -1)
        {
            errors.Add(new(path, $"must be a positive number of {unit}, or -1 for unlimited, got {value}"));
        }
    }

    // A cpuset list as cpuset(7) writes it: "0-3,5,7-8".
    private static void RequireCpuList(string? value, string path, List<SpecError> errors)
    {
        if (value is null)
        {
            return;
        }

        foreach (string range in value.Split(','))
        {
            string[] bounds = range.Split('-');
            var numbers = bounds.Select(b => uint.TryParse(b, NumberStyles.None, CultureInfo.InvariantCulture, out uint n) ? n : (uint?)null).ToArray();
            if (bounds.Length > 2 || numbers.Any(n => n is null) || (numbers.Length == 2 && numbers[0] > numbers[1]))
            {
                errors.Add(new(path, $"must be a list such as '0-3,5', got '{value}'"));
                return;
            }
        }
    }

    private static void ValidateMappings(
        LinuxSpec linux, System.Collections.Immutable.ImmutableArray<LinuxIdMapping> mappings, string path, List<SpecError> errors)
    {
        if (mappings.IsEmpty)
        {
            return;
        }

        if (linux.FindNamespace(NamespaceType.User) is not { Path: null })
        {
            errors.Add(new(path, "needs a new user namespace: add {\"type\": \"user\"} without a path to linux.namespaces"));
        }

        for (int i = 0; i < mappings.Length; i++)
        {
            if (NotNull(mappings[i], $"{path}[{i}]", errors) is not { } mapping)
            {
                continue;
            }

            if (mapping.Size == 0)
            {
                errors.Add(new($"{path}[{i}].size", "must be at least 1"));
                continue;
            }

            for (int j = 0; j < i; j++)
            {
                var other = mappings[j];
                if (other is null || other.Size == 0)
                {
                    continue;
                }

                if (Overlap(mapping.ContainerId, other.ContainerId, mapping.Size, other.Size))
                {
                    errors.Add(new($"{path}[{i}]", $"its containerID range overlaps {path}[{j}]: each container id may be mapped once"));
                }

                if (Overlap(mapping.HostId, other.HostId, mapping.Size, other.Size))
                {
                    errors.Add(new($"{path}[{i}]", $"its hostID range overlaps {path}[{j}]: each host id may be mapped once"));
                }
            }
        }
    }

    private static void ValidateCapabilities(LinuxCapabilities capabilities, List<SpecError> errors)
    {
        (string Name, System.Collections.Immutable.ImmutableArray<string> Set)[] sets =
        [
            ("bounding", capabilities.Bounding), ("effective", capabilities.Effective), ("inheritable", capabilities.Inheritable),
            ("permitted", capabilities.Permitted), ("ambient", capabilities.Ambient),
        ];
        foreach (var (name, set) in sets)
        {
            for (int i = 0; i < set.Length; i++)
            {
                string? capability = set[i];
                if (capability is null || CapabilityNames.Number(capability) < 0)
                {
                    errors.Add(new($"process.capabilities.{name}[{i}]", $"must be a capability name such as CAP_NET_BIND_SERVICE (capabilities(7)), got '{capability}'"));
                }
            }
        }
    }

    // A list entry read from JSON "null": reported here so no later rule dereferences it.
    private static T? NotNull<T>(T? item, string path, List<SpecError> errors)
        where T : class
    {
        if (item is null)
        {
            errors.Add(new(path, "must not be null"));
        }

        return item;
    }

    private static bool Overlap(ulong start, ulong otherStart, ulong size, ulong otherSize) =>
        start < otherStart + otherSize && otherStart < start + size;

    private static bool RequireAbsolute(string? value, string path, List<SpecError> errors)
    {
        if (string.IsNullOrEmpty(value))
        {
            errors.Add(new(path, "must not be empty: give an absolute path"));
            return false;
        }

        if (value[0] != '/')
        {
            errors.Add(new(path, $"must be an absolute path (starting with '/'), got '{value}'"));
            return false;
        }

        return true;
    }

    // tmpfs(5): size=N with an optional k/m/g/t/p/e suffix, or N% of RAM.
    private static bool IsTmpfsSize(string value)
    {
        if (value.Length == 0)
        {
            return false;
        }

        char last = char.ToLowerInvariant(value[^1]);
        string digits = last is 'k' or 'm' or 'g' or 't' or 'p' or 'e' or '%' ? value[..^1] : value;
        return digits.Length > 0 && digits.All(char.IsAsciiDigit)
            && ulong.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out _);
    }
}
