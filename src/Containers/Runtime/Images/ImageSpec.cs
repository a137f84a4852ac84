using System.Collections.Immutable;
using Containers.Images.Model;
using Containers.Spec;

namespace Containers.Runtime.Images;

/// <summary>
/// A container's settings made from an image's config and the caller's <see cref="ImageContainerOptions"/>, before
/// anything touches the disk: the process (arguments, environment, working directory), the user still to look up in
/// the image's files, and what the container keeps beside its spec (volumes, ports, labels, stop signal).
/// </summary>
/// <param name="Spec">The default spec with the process's arguments, environment and working directory; no root yet.</param>
/// <param name="User">The user to resolve in the image's <c>/etc/passwd</c> and <c>/etc/group</c>, or null for root (0:0).</param>
/// <param name="Volumes">The config's <c>Volumes</c>, normalised absolute paths, in order.</param>
/// <param name="ExposedPorts">The config's <c>ExposedPorts</c> (<c>80/tcp</c>).</param>
/// <param name="Labels">The image's labels, then the caller's.</param>
/// <param name="StopSignal">The signal number that stops the container, or null for SIGTERM.</param>
/// <param name="Config">The image's config as the container uses it (the overrides applied), which a commit records.</param>
internal sealed record ImageSpec(
    ContainerSpec Spec,
    string? User,
    ImmutableArray<string> Volumes,
    ImmutableArray<string> ExposedPorts,
    ImmutableSortedDictionary<string, string> Labels,
    int? StopSignal,
    ContainerConfig Config)
{
    /// <summary>Applies Docker's rules to <paramref name="config"/> (null: an image without defaults) and <paramref name="options"/>.</summary>
    /// <exception cref="InvalidImageConfigException">Nothing to run, a bad variable, working directory, volume path or stop signal.</exception>
    public static ImageSpec From(ContainerConfig? config, ImageContainerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var args = Arguments(config, options);
        var spec = ContainerSpec.For([.. args]);
        spec = spec with { Process = spec.Process! with { Env = Environment(config, options), Cwd = WorkingDirectory(config, options) } };
        var user = options.User ?? config?.User;
        var labels = ImmutableSortedDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in config?.Labels ?? ImmutableDictionary<string, string>.Empty)
        {
            labels[key] = value;
        }

        foreach (var (key, value) in options.Labels)
        {
            labels[key] = value;
        }

        var volumes = (config?.Volumes ?? []).Select(VolumePath).Distinct(StringComparer.Ordinal).ToImmutableArray();
        var stopSignal = options.StopSignal ?? config?.StopSignal;
        var used = new ContainerConfig
        {
            User = string.IsNullOrEmpty(user) ? null : user,
            ExposedPorts = config?.ExposedPorts,
            Env = spec.Process!.Env,
            Entrypoint = options.Entrypoint ?? config?.Entrypoint,
            // --entrypoint drops the image's Cmd: an empty one, so a commit does not bring it back.
            Cmd = options.Command ?? (options.Entrypoint is null || config?.Cmd is null ? config?.Cmd : []),
            Volumes = volumes.IsEmpty ? null : volumes,
            WorkingDir = spec.Process!.Cwd,
            Labels = labels.Count == 0 ? null : labels.ToImmutable(),
            StopSignal = string.IsNullOrEmpty(stopSignal) ? null : stopSignal,
        };
        return new ImageSpec(
            spec,
            string.IsNullOrEmpty(user) ? null : user,
            volumes,
            [.. config?.ExposedPorts ?? []],
            labels.ToImmutable(),
            SignalNumber(stopSignal),
            used);
    }

    /// <summary>
    /// <paramref name="path"/> as a volume destination: absolute, with no <c>..</c>, no empty or <c>.</c> parts
    /// kept, and not the root itself.
    /// </summary>
    /// <exception cref="InvalidImageConfigException">The path is relative, climbs with <c>..</c>, or is <c>/</c>.</exception>
    public static string VolumePath(string path)
    {
        if (string.IsNullOrEmpty(path) || path[0] != '/')
        {
            throw new InvalidImageConfigException("Volumes", $"'{path}' is not an absolute path: a volume needs one, such as /data");
        }

        var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries).Where(p => p != ".").ToArray();
        if (parts.Contains(".."))
        {
            throw new InvalidImageConfigException("Volumes", $"'{path}' contains '..': a volume path must name its directory without climbing");
        }

        return parts.Length == 0
            ? throw new InvalidImageConfigException("Volumes", "'/' cannot be a volume: name a directory below the root")
            : "/" + string.Join('/', parts);
    }

    private static ImmutableArray<string> Arguments(ContainerConfig? config, ImageContainerOptions options)
    {
        // Docker: --entrypoint replaces the entrypoint and drops the image's Cmd; a command replaces only the Cmd.
        var entrypoint = options.Entrypoint ?? config?.Entrypoint ?? [];
        var cmd = options.Command ?? (options.Entrypoint is null ? config?.Cmd : null) ?? [];
        ImmutableArray<string> args = [.. entrypoint, .. cmd];
        if (args.IsEmpty)
        {
            throw new InvalidImageConfigException(
                "Cmd", "the image has no Entrypoint or Cmd, and no command was given: give the command to run");
        }

        if (args[0].Length == 0)
        {
            throw new InvalidImageConfigException(options.Entrypoint is { Count: > 0 } || (options.Entrypoint is null && config?.Entrypoint is { Count: > 0 }) ? "Entrypoint" : "Cmd",
                "the program to run is an empty string: give a program name or path");
        }

        return args;
    }

    private static ImmutableArray<string> Environment(ContainerConfig? config, ImageContainerOptions options)
    {
        var names = new List<string>();
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        void Set(string entry, string origin)
        {
            var eq = entry.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                throw new InvalidImageConfigException("Env", $"{origin} variable '{entry}' is not NAME=VALUE");
            }

            var name = entry[..eq];
            if (!values.ContainsKey(name))
            {
                names.Add(name);
            }

            values[name] = entry;
        }

        foreach (var entry in config?.Env ?? [])
        {
            Set(entry, "the image's");
        }

        foreach (var entry in options.Env)
        {
            Set(entry, "the caller's");
        }

        // Docker gives a process whose image sets no PATH the usual one.
        if (!values.ContainsKey("PATH"))
        {
            names.Insert(0, "PATH");
            values["PATH"] = "PATH=" + ContainerSpec.DefaultPath;
        }

        return [.. names.Select(n => values[n])];
    }

    private static string WorkingDirectory(ContainerConfig? config, ImageContainerOptions options)
    {
        var cwd = options.WorkingDirectory ?? config?.WorkingDir;
        if (string.IsNullOrEmpty(cwd))
        {
            return "/";
        }

        if (cwd[0] != '/')
        {
            throw new InvalidImageConfigException("WorkingDir", $"'{cwd}' is not an absolute path: give one such as /app");
        }

        return cwd;
    }

    private static int? SignalNumber(string? signal) => string.IsNullOrEmpty(signal)
        ? null
        : SignalName.TryParse(signal) ?? throw new InvalidImageConfigException(
            "StopSignal", $"'{signal}' is not a signal: use a name such as SIGTERM or SIGQUIT, or a number from 1 to 64");
}
