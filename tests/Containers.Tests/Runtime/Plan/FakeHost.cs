using Containers.Linux;
using Containers.Runtime.Plan;

namespace Containers.Tests.Runtime.Plan;

/// <summary>Host facts for plan step tests: ids, subordinate ranges and a table of files, with no I/O.</summary>
internal sealed class FakeHost : IHostView
{
    private readonly Dictionary<string, HostFile> _files = new(StringComparer.Ordinal) { ["/"] = HostFile.Directory };

    public bool IsPrivileged => Uid == 0;

    public uint Uid { get; init; }

    public uint Gid { get; init; }

    public SubordinateIds? SubordinateIds { get; init; }

    public bool ReapsEveryChild { get; init; }

    /// <summary>Every capability up to CAP_CHECKPOINT_RESTORE (40) unless a test says otherwise.</summary>
    public ulong BoundingSet { get; init; } = (1UL << 41) - 1;

    /// <summary>CAP_CHECKPOINT_RESTORE (40) unless a test says otherwise.</summary>
    public int LastCapability { get; init; } = 40;

    /// <summary>A Debian host with merged /usr: /bin, /sbin, /lib and /lib64 link into /usr; /bin/sh and /usr/bin/true exist.</summary>
    public static FakeHost Debian(uint uid = 0) => new FakeHost { Uid = uid, Gid = uid }
        .WithDirectory("/usr/bin").WithDirectory("/usr/sbin").WithDirectory("/usr/lib").WithDirectory("/usr/lib64")
        .WithDirectory("/etc")
        .WithLink("/bin", "usr/bin").WithLink("/sbin", "usr/sbin").WithLink("/lib", "usr/lib").WithLink("/lib64", "usr/lib64")
        .WithFile("/usr/bin/sh").WithFile("/usr/bin/true")
        .WithDirectory("/proc/acpi").WithFile("/proc/kcore", (UnixFileMode)0x100);

    /// <summary>Adds a file (by default 0755) and its parent directories.</summary>
    public FakeHost WithFile(string path, UnixFileMode mode = (UnixFileMode)0x1ed) => Add(path, HostFile.File(mode));

    public FakeHost WithDirectory(string path) => Add(path, HostFile.Directory);

    public FakeHost WithLink(string path, string target) => Add(path, HostFile.Link(target));

    public HostFile? Inspect(string path) =>
        _files.GetValueOrDefault(path.Length > 1 ? path.TrimEnd('/') : path);

    private FakeHost Add(string path, HostFile file)
    {
        for (var parent = Path.GetDirectoryName(path); parent is not null and not "/"; parent = Path.GetDirectoryName(parent))
        {
            _files.TryAdd(parent, HostFile.Directory);
        }

        _files[path] = file;
        return this;
    }
}
