using Containers.Cli.CommandLine;

namespace Containers.Cli.Commands;

/// <summary>
/// <c>--mount type=bind|volume|tmpfs,source=SRC,target=DST[,readonly][,tmpfs-size=N]</c>: Docker's long form of
/// <c>-v</c> and <c>--tmpfs</c>, giving the same mounts. Docker's other keys (propagation, volume drivers and
/// options, a tmpfs's mode) are refused by name, never ignored.
/// </summary>
internal static class MountOption
{
    private const string Supported = "type, source (src), target (destination, dst), readonly (ro), tmpfs-size";

    public static OptionSpec Option { get; } = OptionSpec.Value(
        "mount", null, "list", "Attach a mount: type=bind|volume|tmpfs,source=SRC,target=DST[,readonly][,tmpfs-size=N]");

    /// <summary>One <c>--mount</c>: a bind's source is an absolute host path, a volume's a volume name, a tmpfs has none.</summary>
    public sealed record Mount(string Type, string? Source, string Target, bool ReadOnly, long? Size);

    /// <summary>The <c>--mount</c> values, checked.</summary>
    /// <exception cref="UsageException">A value is malformed, names a key this runtime does not support, or misses what its type needs.</exception>
    public static IEnumerable<Mount> Read(Invocation invocation, Func<string, bool> isVolumeName)
    {
        foreach (var value in invocation.Values(Option.Name))
        {
            yield return Parse(value, isVolumeName, message => new UsageException($"--mount '{value}': {message}", invocation.Path));
        }
    }

    private static Mount Parse(string value, Func<string, bool> isVolumeName, Func<string, UsageException> error)
    {
        string? type = null, source = null, target = null;
        var readOnly = false;
        long? size = null;
        foreach (var field in value.Split(','))
        {
            var eq = field.IndexOf('=', StringComparison.Ordinal);
            var (key, text) = eq < 0 ? (field, null) : (field[..eq], field[(eq + 1)..]);
            switch (key)
            {
                case "type":
                    type = text;
                    break;
                case "source" or "src":
                    source = text;
                    break;
                case "target" or "destination" or "dst":
                    target = text;
                    break;
                case "readonly" or "ro":
                    readOnly = text switch
                    {
                        null or "true" or "1" => true,
                        "false" or "0" => false,
                        _ => throw error($"{key}={text}: use {key}, {key}=true or {key}=false"),
                    };
                    break;
                case "tmpfs-size":
                    size = ContainerRequest.ParseSize(text ?? "") ?? throw error($"tmpfs-size={text}: give a size in bytes, or with k, m, g");
                    break;
                default:
                    throw error($"'{key}' is not supported (supported: {Supported})");
            }
        }

        if (string.IsNullOrEmpty(target))
        {
            throw error("give target=DST, the path inside the container");
        }

        switch (type)
        {
            case "bind":
                if (string.IsNullOrEmpty(source) || size is not null)
                {
                    throw error("a bind takes source=HOST-PATH and no tmpfs-size");
                }

                // As Docker's --mount (unlike -v): a bind's source must exist; it is never made.
                var path = Path.GetFullPath(source);
                return Path.Exists(path) ? new Mount(type, path, target, readOnly, null) : throw error($"the bind source '{path}' does not exist");
            case "volume":
                return !string.IsNullOrEmpty(source) && isVolumeName(source) && size is null
                    ? new Mount(type, source, target, readOnly, null)
                    : throw error("a volume takes source=NAME (a volume name, no '/'; an anonymous volume is not supported here) and no tmpfs-size");
            case "tmpfs":
                return source is null && !readOnly
                    ? new Mount(type, null, target, false, size)
                    : throw error("a tmpfs takes no source and is writable (readonly is not supported for it)");
            default:
                throw error(type is null ? "give type=bind, volume or tmpfs" : $"type '{type}' is not supported: use bind, volume or tmpfs");
        }
    }

}
