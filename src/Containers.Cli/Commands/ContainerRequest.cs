using System.Globalization;
using Containers.Cli.CommandLine;
using Containers.Images;
using Containers.Images.Model;
using Containers.Runtime;
using Containers.Security;
using Containers.Spec;

namespace Containers.Cli.Commands;

/// <summary>
/// What <c>run</c> and <c>create</c> share: their options, and the container they describe. Without
/// <c>--rootfs</c> or <c>--host-rootfs</c> the first argument is an image of the store (<c>--root</c>) and the rest
/// replaces its <c>Cmd</c>; with one of them the arguments are the command itself.
/// </summary>
internal static class ContainerRequest
{
    public const string Usage = "[OPTIONS] IMAGE [COMMAND] [ARG...]";

    /// <summary>A runtime for one start: no pool of network namespaces made ahead (nothing would take them).</summary>
    internal static readonly ContainerRuntimeOptions OneStart = new() { NetworkNamespacePoolSize = 0, CgroupPoolSize = 0 };

    public static IReadOnlyList<OptionSpec> Options { get; } =
    [
        OptionSpec.Flag("cow", null, "With --rootfs: use the directory copy-on-write (the container's changes go to its own layer, the directory stays as it is)"),
        DeviceOption.Option,
        OptionSpec.Value("entrypoint", null, "string", "Overwrite the image's entrypoint (its Cmd is then not used)"),
        EnvironmentOptions.Env,
        EnvironmentOptions.EnvFile,
        OptionSpec.Value("group-add", null, "list", "Add a supplementary group (a name from the container's /etc/group, or a GID)"),
        OptionSpec.Value("hostname", 'h', "string", "The container's hostname"),
        OptionSpec.Flag("host-rootfs", null, "No image: run COMMAND with the host's /usr, /bin, /lib* and /etc read-only"),
        OptionSpec.Flag("init", null, "Run an init as pid 1 that reaps zombies and forwards signals"),
        OptionSpec.Value("label", 'l', "list", "Set a label (KEY=VALUE), after the image's"),
        LogOptions.Option,
        .. ResourceOptions.Options,
        MountOption.Option,
        OptionSpec.Value("name", null, "string", "The container's name"),
        OptionSpec.Value("network", null, "string", "none (loopback only, the default) or host"),
        OptionSpec.Value("oom-score-adj", null, "int", "Tune the OOM killer's preference for the container's processes (-1000 to 1000)"),
        OptionSpec.Flag("read-only", null, "Make the root filesystem read-only"),
        OptionSpec.Value("platform", null, "string", "The image's platform, os/arch[/variant]: pulled from a multi-platform image, required of the stored one (default: this host's)"),
        OptionSpec.Value("pull", null, "string", "Pull the image before creating the container: missing (the default: when the store lacks it), always or never"),
        ImageStoreOption.Create(),
        OptionSpec.Value("rootfs", null, "string", "No image: run COMMAND with this directory as the root filesystem"),
        OptionSpec.Value("secret", null, "list", "Give the container a file at /run/secrets/NAME, read-only, mode 0400 (NAME=FILE)"),
        OptionSpec.Value("shm-size", null, "bytes", "Size of /dev/shm (N in bytes, or with k, m, g; default 64m)"),
        OptionSpec.Value("stop-signal", null, "string", "Signal that stops the container (default: the image's, else TERM)"),
        OptionSpec.Value("tmpfs", null, "list", "Mount a tmpfs at DST[:size=N]"),
        OptionSpec.Flag("tty", 't', "Give the process a pseudo-terminal"),
        UlimitOption.Option,
        OptionSpec.Value("user", 'u', "string", "Run as NAME|UID[:GROUP|GID], names from the container's /etc/passwd and /etc/group"),
        OptionSpec.Value("volume", 'v', "list", "Mount a volume NAME:DST[:ro] or bind a host path /SRC:DST[:ro]"),
        OptionSpec.Value("workdir", 'w', "string", "Working directory inside the container (created when missing)"),
        .. SecurityOptions.Options,
    ];

    /// <summary>
    /// Creates the container <paramref name="invocation"/> describes on a runtime that lives as long as this process
    /// (the container dies with it); its image is in the store already (<see cref="PullAsync"/>). With
    /// <paramref name="startAtOnce"/> it is started too where nothing needs to be in place before its program runs
    /// (see its status).
    /// </summary>
    /// <param name="invocation">The <c>run</c> or <c>create</c> invocation.</param>
    /// <param name="options">Stdio, init and log of the container.</param>
    /// <param name="cancellationToken">Cancels the creation.</param>
    /// <param name="startAtOnce">Whether a container without a terminal and limits is created and started in one step.</param>
    public static async Task<Container> CreateAsync(Invocation invocation, ContainerCreateOptions options, CancellationToken cancellationToken, bool startAtOnce = false)
    {
        var id = invocation.Value("name");
        options = options with { Secrets = Secrets(invocation) };
        if (IsImage(invocation))
        {
            var (image, overrides) = ImageRequest(invocation);
            var store = await ImageStoreOption.OpenAsync(invocation, cancellationToken).ConfigureAwait(false);
            var runtime = await ContainerRuntime.OpenAsync(OneStart with { Images = store, SweepOnOpen = false }, cancellationToken).ConfigureAwait(false);
            return await CreateThenSweepAsync(
                runtime, () => runtime.CreateFromImageAsync(id, image, overrides with { Create = options }, cancellationToken), cancellationToken).ConfigureAwait(false);
        }

        var spec = SpecRequest(invocation);
        if (invocation.Has("cow"))
        {
            options = options with { Overlay = OverlayRootfs.FromDirectory(Path.GetFullPath(invocation.Value("rootfs")!)) };
        }

        var specRuntime = await ContainerRuntime.OpenAsync(OneStart with { SweepOnOpen = false }, cancellationToken).ConfigureAwait(false);
        return await CreateThenSweepAsync(
            specRuntime,
            () => startAtOnce && StartsAtOnce(spec)
                ? specRuntime.StartAsync(id, spec, options, cancellationToken)
                : specRuntime.CreateAsync(id, spec, options, cancellationToken),
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Creates a container on a runtime opened without its sweep (<see cref="ContainerRuntime.SweepAsync"/>), and
    /// sweeps once the container exists: what dead processes left behind is cleared while the container runs, not
    /// before its start. A name taken by such a leftover is freed by sweeping first.
    /// </summary>
    private static async Task<Container> CreateThenSweepAsync(ContainerRuntime runtime, Func<Task<Container>> create, CancellationToken cancellationToken)
    {
        Container container;
        try
        {
            container = await create().ConfigureAwait(false);
        }
        catch (ContainerAlreadyExistsException)
        {
            if (await runtime.SweepAsync(cancellationToken).ConfigureAwait(false) == 0)
            {
                throw;
            }

            return await create().ConfigureAwait(false);
        }

        try
        {
            await runtime.SweepAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ContainersIOException e)
        {
            // The container is made and this command goes on with it; the leftovers wait for a later sweep.
            await Console.Error.WriteLineAsync("containers: warning: " + e.Message.ReplaceLineEndings(" ")).ConfigureAwait(false);
        }

        return container;
    }

    /// <summary>
    /// Whether a foreground run may create and start in one step: nothing needs to be in place before its program
    /// runs. A terminal is attached first (its first prompt), and an OOM watch set up first sees every kill.
    /// </summary>
    private static bool StartsAtOnce(ContainerSpec spec) => spec.Process?.Terminal != true && spec.Linux?.Resources is null;

    /// <summary>
    /// Pulls the image of an image invocation as <c>--pull</c> says, before the container is created (before a monitor
    /// process creates it for <c>run -d</c> and <c>create</c>: the progress shows here, where the user is).
    /// </summary>
    public static async Task PullAsync(Invocation invocation, CancellationToken cancellationToken)
    {
        if (!IsImage(invocation))
        {
            return;
        }

        var policy = PullPolicyOf(invocation);
        if (policy == PullPolicy.Never)
        {
            return;
        }

        var store = await ImageStoreOption.OpenAsync(invocation, cancellationToken).ConfigureAwait(false);
        await using (store.ConfigureAwait(false))
        {
            var runtime = await ContainerRuntime.OpenAsync(OneStart with { Images = store }, cancellationToken).ConfigureAwait(false);
            await using (runtime.ConfigureAwait(false))
            {
                await PullFirstAsync(runtime, invocation.Arguments[0], policy, PlatformOf(invocation), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>The <c>--pull</c> policy: Docker's values, <c>missing</c> when not given.</summary>
    public static PullPolicy PullPolicyOf(Invocation invocation) => invocation.Value("pull") switch
    {
        null or "missing" => PullPolicy.Missing,
        "always" => PullPolicy.Always,
        "never" => PullPolicy.Never,
        var other => throw new UsageException($"--pull '{other}': use missing, always or never", invocation.Path),
    };

    /// <summary>The <c>--platform</c>, or null when not given.</summary>
    public static Platform? PlatformOf(Invocation invocation) => invocation.Value("platform") is { } platform ? Platform.Parse(platform) : null;

    /// <summary>
    /// Pulls with progress on stderr when the policy asks for it; an image the store has (for the platform asked for)
    /// is not looked up at the registry under <see cref="PullPolicy.Missing"/>, and then nothing is shown. With
    /// <see cref="PullPolicy.Never"/> the creation itself says when the image is missing.
    /// </summary>
    private static async Task PullFirstAsync(ContainerRuntime runtime, string image, PullPolicy policy, Platform? platform, CancellationToken cancellationToken)
    {
        if (policy == PullPolicy.Never)
        {
            return;
        }

        if (policy == PullPolicy.Missing)
        {
            try
            {
                await runtime.PullImageAsync(image, PullPolicy.Never, platform, progress: null, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (ImageNotFoundException)
            {
                await Console.Error.WriteLineAsync($"image '{image}' not found in the store: pulling it").ConfigureAwait(false);
            }
            catch (ImagePlatformException e)
            {
                await Console.Error.WriteLineAsync($"image '{image}' is stored for {e.Actual}, not {e.Wanted}: pulling it").ConfigureAwait(false);
            }
        }

        await TransferProgressDisplay.RunAsync(quiet: false, progress => runtime.PullImageAsync(image, policy, platform, progress, cancellationToken)).ConfigureAwait(false);
    }

    /// <summary>Whether the first argument is an image (no <c>--rootfs</c> and no <c>--host-rootfs</c>).</summary>
    public static bool IsImage(Invocation invocation) => invocation.Value("rootfs") is null && !invocation.Has("host-rootfs");

    /// <summary>The image and what changes of it, from an invocation whose first argument is the image.</summary>
    public static (string Image, ImageContainerOptions Overrides) ImageRequest(Invocation invocation)
    {
        if (invocation.Has("cow"))
        {
            throw new UsageException("--cow needs --rootfs DIR: a container made from an image is copy-on-write already", invocation.Path);
        }

        if (invocation.Has("sandbox"))
        {
            // The preset is the host's read-only /usr, /bin, /lib* and /etc in a user namespace mapped to ids no
            // host user has; an image's layers are not part of it.
            throw new UsageException("--sandbox runs a command on the host's read-only rootfs: add --host-rootfs (or --rootfs DIR) and give the command instead of an image", invocation.Path);
        }

        if (invocation.Value("user") is { Length: 0 } || invocation.Value("workdir") is { Length: 0 })
        {
            throw new UsageException("-u and -w need a value", invocation.Path);
        }

        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var label in invocation.Values("label"))
        {
            var eq = label.IndexOf('=', StringComparison.Ordinal);
            if (eq == 0)
            {
                throw new UsageException($"--label '{label}': use KEY=VALUE", invocation.Path);
            }

            labels[eq < 0 ? label : label[..eq]] = eq < 0 ? string.Empty : label[(eq + 1)..];
        }

        var workdir = invocation.Value("workdir");
        var overrides = new ImageContainerOptions
        {
            Command = invocation.Arguments.Count > 1 ? [.. invocation.Arguments.Skip(1)] : null,
            Entrypoint = invocation.Value("entrypoint") is { } entrypoint ? (entrypoint.Length == 0 ? [] : [entrypoint]) : null,
            Env = EnvironmentOptions.Read(invocation),
            WorkingDirectory = workdir,
            User = invocation.Value("user"),
            GroupAdd = invocation.Values("group-add"),
            Labels = labels,
            StopSignal = invocation.Value("stop-signal"),
            Platform = PlatformOf(invocation),
            Volumes = [.. VolumeOptions(invocation).Where(v => IsVolumeName(v.Source)).Select(v => new VolumeMount(v.Source, v.Destination, v.ReadOnly))],
            Configure = spec => Host(invocation, invocation.Has("read-only") ? spec with { Root = new RootSpec(null, Readonly: true) } : spec),
        };
        return (invocation.Arguments[0], overrides);
    }

    /// <summary>The spec of a container of the host rootfs or a directory, whose arguments are the command.</summary>
    public static ContainerSpec SpecRequest(Invocation invocation)
    {
        if (invocation.Value("rootfs") is not null && invocation.Has("host-rootfs"))
        {
            throw new UsageException("--rootfs and --host-rootfs exclude each other: choose one", invocation.Path);
        }

        foreach (var imageOnly in (string[])["entrypoint", "label", "platform", "pull", "stop-signal"])
        {
            if (invocation.Value(imageOnly) is not null)
            {
                throw new UsageException($"--{imageOnly} applies to a container made from an image, not to --rootfs or --host-rootfs", invocation.Path);
            }
        }

        if (invocation.Has("cow") && invocation.Value("rootfs") is null)
        {
            throw new UsageException("--cow needs --rootfs DIR: it makes that directory the container's copy-on-write root", invocation.Path);
        }

        // The sandbox preset replaces the default spec; the other flags apply on top of it.
        var spec = invocation.Has("sandbox") ? SandboxProfile.For(SecurityOptions.Sandbox(invocation), [.. invocation.Arguments]).Spec : ContainerSpec.For([.. invocation.Arguments]);
        if (invocation.Has("cow"))
        {
            // The overlay replaces the root; root.readonly then makes it read-only once its mount points are made.
            spec = spec.WithHostRootfs(invocation.Has("read-only"));
        }
        else if (invocation.Value("rootfs") is { } directory)
        {
            spec = spec.WithRootfs(Path.GetFullPath(directory), invocation.Has("read-only"));
        }
        else if (invocation.Has("read-only"))
        {
            spec = spec.WithHostRootfs(readOnly: true);
        }

        foreach (var variable in EnvironmentOptions.Read(invocation))
        {
            var eq = variable.IndexOf('=', StringComparison.Ordinal);
            spec = spec.WithEnv(variable[..eq], variable[(eq + 1)..]);
        }

        // Names come from the container's own /etc/passwd and /etc/group: its rootfs, or the host's /etc that it sees.
        var root = invocation.Value("rootfs") is { } rootfs ? Path.GetFullPath(rootfs) : "/";
        if (invocation.Value("user") is { } user)
        {
            spec = spec with { Process = spec.Process! with { User = ContainerUser.Resolve(root, user) } };
        }

        if (invocation.Values("group-add") is { Count: > 0 } groups)
        {
            spec = spec with { Process = spec.Process! with { User = ContainerUser.AddGroups(root, spec.Process.User, groups) } };
        }

        if (invocation.Value("workdir") is { } cwd)
        {
            spec = spec.WithWorkingDirectory(cwd);
        }

        return Host(invocation, spec);
    }

    /// <summary>What the host gives the container whatever its root: hostname, network, binds, tmpfs mounts, resource limits, devices, rlimits, a terminal.</summary>
    private static ContainerSpec Host(Invocation invocation, ContainerSpec spec)
    {
        if (ResourceOptions.Any(invocation))
        {
            spec = spec.WithResources(r => ResourceOptions.Apply(invocation, r));
        }

        if (invocation.Value("oom-score-adj") is { } adj)
        {
            spec = spec with
            {
                Process = spec.Process! with
                {
                    OomScoreAdj = int.TryParse(adj, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) ? n
                        : throw new UsageException($"--oom-score-adj '{adj}': give a whole number from -1000 to 1000", invocation.Path),
                },
            };
        }

        if (invocation.Value("shm-size") is { } shm)
        {
            var size = ParseSize(shm) ?? throw new UsageException($"--shm-size '{shm}': give a size in bytes, or with k, m, g", invocation.Path);
            spec = spec.Mounts.Any(m => m is { Destination: "/dev/shm", Type: "tmpfs" })
                ? spec.WithShmSize(size)
                : throw new UsageException("--shm-size: this container has no /dev/shm tmpfs to size", invocation.Path);
        }

        if (invocation.Value("hostname") is { } host)
        {
            spec = spec.WithHostname(host);
        }

        spec = spec.WithNetwork(invocation.Value("network") switch
        {
            null or "none" => NetworkMode.None,
            "host" => NetworkMode.Host,
            var other => throw new UsageException($"--network '{other}' is not supported: use none or host", invocation.Path),
        });
        foreach (var (source, destination, readOnly) in VolumeOptions(invocation))
        {
            if (IsVolumeName(source))
            {
                // Named volumes belong to containers made from images: ImageRequest mounts them.
                if (!IsImage(invocation))
                {
                    throw new UsageException($"-v {source}:{destination}: a named volume needs a container made from an image; give a host path (/...) to bind", invocation.Path);
                }

                continue;
            }

            spec = spec.WithBindMount(Path.GetFullPath(source), destination, readOnly);
        }

        foreach (var mount in invocation.Values("tmpfs"))
        {
            var parts = mount.Split(':', 2);
            long? size = null;
            if (parts.Length == 2)
            {
                size = parts[1].StartsWith("size=", StringComparison.Ordinal) ? ParseSize(parts[1][5..]) : null;
                if (size is null)
                {
                    throw new UsageException($"--tmpfs '{mount}': use DST or DST:size=N (N in bytes, or with k, m, g)", invocation.Path);
                }
            }

            spec = spec.WithTmpfs(parts[0], size);
        }

        foreach (var mount in MountOption.Read(invocation, IsVolumeName).Where(m => m.Type == "tmpfs"))
        {
            spec = spec.WithTmpfs(mount.Target, mount.Size);
        }

        spec = SecurityOptions.Apply(invocation, spec);
        spec = DeviceOption.Apply(invocation, spec);
        spec = UlimitOption.Apply(invocation, spec);
        return invocation.Has("tty") ? spec.WithTerminal() : spec;
    }

    /// <summary>The <c>--secret NAME=FILE</c> values; only the host path is kept (and passed to a monitor), the file is read when the container is created.</summary>
    private static List<ContainerSecret> Secrets(Invocation invocation)
    {
        var secrets = new List<ContainerSecret>();
        foreach (var secret in invocation.Values("secret"))
        {
            var eq = secret.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0 || eq == secret.Length - 1)
            {
                throw new UsageException($"--secret '{secret}': use NAME=FILE (the file appears at /run/secrets/NAME)", invocation.Path);
            }

            secrets.Add(ContainerSecret.FromFile(secret[..eq], Path.GetFullPath(secret[(eq + 1)..])));
        }

        return secrets;
    }

    /// <summary>The <c>-v SRC:DST[:ro|rw]</c> values, then the binds and volumes of <c>--mount</c>.</summary>
    private static IEnumerable<(string Source, string Destination, bool ReadOnly)> VolumeOptions(Invocation invocation)
    {
        foreach (var volume in invocation.Values("volume"))
        {
            var parts = volume.Split(':');
            if (parts.Length is < 2 or > 3 || parts[0].Length == 0 || (parts.Length == 3 && parts[2] is not ("ro" or "rw")))
            {
                throw new UsageException($"-v '{volume}': use SRC:DST or SRC:DST:ro (SRC a host path or a volume name)", invocation.Path);
            }

            yield return (parts[0], parts[1], parts.Length == 3 && parts[2] == "ro");
        }

        foreach (var mount in MountOption.Read(invocation, IsVolumeName).Where(m => m.Type != "tmpfs"))
        {
            yield return (mount.Source!, mount.Target, mount.ReadOnly);
        }
    }

    /// <summary>As Docker: a source that is not a path (no '/', not '.' or '~') names a volume.</summary>
    private static bool IsVolumeName(string source) => !source.Contains('/', StringComparison.Ordinal) && source is not ("." or ".." or "~");

    /// <summary>A size in bytes, or with k, m or g; null when it is not one.</summary>
    internal static long? ParseSize(string text)
    {
        var multiplier = char.ToLowerInvariant(text.Length > 0 ? text[^1] : ' ') switch
        {
            'k' => 1L << 10,
            'm' => 1L << 20,
            'g' => 1L << 30,
            _ => 1L,
        };
        var digits = multiplier == 1 ? text : text[..^1];
        return long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value > 0 ? value * multiplier : null;
    }
}
