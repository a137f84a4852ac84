using System.Globalization;
using System.Text.Json;
using Containers.Runtime;
using Containers.Spec;

namespace Containers.Cli.Commands;

/// <summary>
/// What <c>ps</c> and <c>inspect</c> show of one container: Docker's columns computed from its state. The start
/// time is the process's own (<c>/proc/PID/stat</c> start time after boot), the finish time the last write of its
/// state, which the owner makes when it records the exit.
/// </summary>
internal sealed record ContainerRow(ContainerInfo State, DateTimeOffset? Started, DateTimeOffset? Finished)
{
    /// <summary>The row of <paramref name="state"/>, or null when the container was removed since its state was read.</summary>
    public static ContainerRow? Of(ContainerInfo state)
    {
        var image = state.Image?.Reference ?? "host";
        byte[] config;
        try
        {
            // Read synchronously: an asynchronous file read on Linux is a blocking read queued to the thread pool,
            // whose first use starts two workers and the pool's gate thread, more than a listing does otherwise.
            config = File.ReadAllBytes(Path.Combine(state.Bundle, "config.json"));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            // Another process removed it between the listing and now (a concurrent rm, or its owner's cleanup).
            return null;
        }

        // Only root.path, the mounts and the namespaces are needed: JsonDocument reads them without building the
        // serializer's metadata for the whole spec, which cost ps more CPU per row than everything else it does.
        IReadOnlyList<string> mounts;
        string? network;
        try
        {
            using var document = JsonDocument.Parse(config);
            if (state.Image is null && document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("root", out var root) && root.ValueKind == JsonValueKind.Object
                && root.TryGetProperty("path", out var path) && path.ValueKind == JsonValueKind.String)
            {
                image = path.GetString() ?? image;
            }

            // A directory used copy-on-write (--rootfs DIR --cow) is the overlay's one lower layer, not root.path.
            if (state.Image is null && image is "" or "host" && state.LowerDirectories is [var directory])
            {
                image = directory;
            }

            (mounts, network) = Describe(document.RootElement, state.Volumes);
        }
        catch (JsonException e)
        {
            throw new InvalidSpecException([new SpecError("$", e.Message)], e);
        }

        DateTimeOffset? started = state.ProcessStartTime > 0 ? BootTime.Value + TimeSpan.FromTicks((long)state.ProcessStartTime * (TimeSpan.TicksPerSecond / ClockTicksPerSecond)) : null;
        DateTimeOffset? finished = null;
        if (state.Status == ContainerStatus.Stopped)
        {
            var file = new FileInfo(Path.Combine(state.Bundle, "state.json"));
            finished = file.Exists ? file.LastWriteTimeUtc : null;
        }

        return new ContainerRow(state, started, finished) { Image = image, Mounts = mounts, Network = network };
    }

    /// <summary>
    /// Docker's <c>Mounts</c> and <c>Networks</c> of a container from its spec (<c>config.json</c>). Mounts: each bind
    /// mount, in the spec's order, as the name of the volume it is when its source is the <c>_data</c> folder of a volume
    /// the container's state lists, otherwise as its source (<c>-v /src:/dst</c>, a volume, a library user's). Other
    /// mounts (<c>/proc</c>, <c>--tmpfs</c>) are left out, as Docker leaves them out, and so are the only binds the
    /// runtime adds itself: the host's <c>/etc/resolv.conf</c> and <c>/etc/hosts</c>, read-only at those paths in a
    /// container of an image on the host's network, as Docker leaves out its own. Network: there are no named networks, so it is what
    /// Docker calls <c>none</c> (a network namespace of its own, made for it: only a loopback) or <c>host</c> (none in
    /// the spec: the host's); a namespace joined by path may be anything's, and is null (not known).
    /// </summary>
    internal static (IReadOnlyList<string> Mounts, string? Network) Describe(JsonElement spec, IReadOnlyList<string> volumes)
    {
        string? network = "host";
        if (spec.ValueKind == JsonValueKind.Object && spec.TryGetProperty("linux", out var linux) && linux.ValueKind == JsonValueKind.Object
            && linux.TryGetProperty("namespaces", out var namespaces) && namespaces.ValueKind == JsonValueKind.Array)
        {
            foreach (var ns in namespaces.EnumerateArray())
            {
                if (ns.ValueKind == JsonValueKind.Object && String(ns, "type") == "network")
                {
                    network = String(ns, "path") is { Length: > 0 } ? null : "none";
                }
            }
        }

        var mounts = new List<string>();
        if (spec.ValueKind == JsonValueKind.Object && spec.TryGetProperty("mounts", out var list) && list.ValueKind == JsonValueKind.Array)
        {
            foreach (var mount in list.EnumerateArray())
            {
                if (mount.ValueKind == JsonValueKind.Object && IsBind(mount) && String(mount, "source") is { } source
                    && !(network == "host" && String(mount, "destination") is "/etc/resolv.conf" or "/etc/hosts" && HasOption(mount, "ro")))
                {
                    var parent = Path.GetFileName(Path.GetDirectoryName(source.TrimEnd('/')));
                    mounts.Add(Path.GetFileName(source.TrimEnd('/')) == "_data" && parent is not null && volumes.Contains(parent, StringComparer.Ordinal) ? parent : source);
                }
            }
        }

        return (mounts, network);
    }

    private static bool HasOption(JsonElement mount, string option) =>
        mount.TryGetProperty("options", out var options) && options.ValueKind == JsonValueKind.Array
        && options.EnumerateArray().Any(o => o.ValueKind == JsonValueKind.String && o.GetString() == option);

    /// <summary>A bind mount as the runtime takes one: type <c>bind</c>, or a <c>bind</c>/<c>rbind</c> option.</summary>
    private static bool IsBind(JsonElement mount) =>
        String(mount, "type") == "bind" || HasOption(mount, "bind") || HasOption(mount, "rbind");

    private static string? String(JsonElement item, string name) =>
        item.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    /// <summary>
    /// Docker's size, <c>0B (virtual 4.26MB)</c>: the writable layer's bytes and the whole root's; <c>N/A</c> for a
    /// container whose root has no layer of its own or could not be counted; null when not asked for (<c>ps -s</c>).
    /// </summary>
    public string? Size { get; init; }

    /// <summary>The volumes (by name) and host paths bound into the container, in the spec's order (<see cref="Describe"/>).</summary>
    public IReadOnlyList<string> Mounts { get; init; } = [];

    /// <summary>Docker's name for the container's network: <c>none</c> or <c>host</c>; null when the spec does not tell (<see cref="Describe"/>).</summary>
    public string? Network { get; init; }

    /// <summary>The short id Docker shows (its first 12 characters).</summary>
    public string ShortId => State.Id.Length > 12 ? State.Id[..12] : State.Id;

    /// <summary>The root filesystem the container runs on: an image, a directory or the host's.</summary>
    public string Image { get; init; } = "host";

    /// <summary>The command line.</summary>
    public string Command => string.Join(' ', State.Command);

    public string Created(DateTimeOffset now) => HumanTime.Ago(State.Created, now);

    /// <summary>"Up 2 minutes", "Up 5 seconds (Paused)", "Exited (3) 4 seconds ago", "Created".</summary>
    public string Status(DateTimeOffset now) => State.Status switch
    {
        ContainerStatus.Running => "Up " + HumanTime.Duration(now - (Started ?? State.Created)),
        ContainerStatus.Paused => "Up " + HumanTime.Duration(now - (Started ?? State.Created)) + " (Paused)",
        ContainerStatus.Stopped => $"Exited ({ExitStatus.ToString(CultureInfo.InvariantCulture)})" + (Finished is { } f ? " " + HumanTime.Ago(f, now) : string.Empty),
        ContainerStatus.Created or ContainerStatus.Creating => "Created",
        _ => State.Status.ToOciString(),
    };

    /// <summary>
    /// Docker's name of the status (<c>State.Status</c> of inspect, <c>State</c> of ps): <c>exited</c> where OCI says
    /// <c>stopped</c>, and <c>created</c> while the container is still being created (Docker has no such state).
    /// </summary>
    public string DockerStatus => State.Status switch
    {
        ContainerStatus.Stopped => "exited",
        ContainerStatus.Creating => "created",
        var other => other.ToOciString(),
    };

    /// <summary>The exit code, or 128 + signal, of a stopped container (Docker's "Exited (137)").</summary>
    public int ExitStatus => State.ExitCode ?? (State.Signal is { } s ? 128 + s : 0);

    // USER_HZ: the unit of /proc/PID/stat times, fixed at 100 by the kernel's ABI on every architecture we build for.
    private const int ClockTicksPerSecond = 100;

    // Boot time as now minus /proc/uptime (10 ms resolution), not /proc/stat's btime: btime is whole seconds, which put
    // a start time up to a second early, before the container's own creation time.
    private static readonly Lazy<DateTimeOffset?> BootTime = new(() =>
    {
        var uptime = File.ReadAllText("/proc/uptime");
        var end = uptime.IndexOf(' ', StringComparison.Ordinal);
        return end > 0 && decimal.TryParse(uptime.AsSpan(0, end), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var seconds)
            ? DateTimeOffset.UtcNow - TimeSpan.FromTicks((long)(seconds * TimeSpan.TicksPerSecond))
            : null;
    });
}
