using System.Text;
using Containers.Runtime.Plan;
using Containers.Spec;

namespace Containers.Runtime.Images;

/// <summary>
/// A container of an image in a network namespace of its own (the default, <c>--network none</c>) finds in
/// <c>/etc/hosts</c> the loopback names and its hostname, and that hostname in <c>/etc/hostname</c>, as Docker's
/// container does: a resolver that reads only files (busybox's, musl's without a DNS server) then resolves
/// <c>localhost</c>, and a program that looks up its own host name finds it. The runtime writes both into the
/// container's layer before the program runs (<see cref="RootFilesStep"/>), over what the image has there (the image
/// itself is never changed), and a commit or a diff leaves them out (<see cref="Paths"/>), as Docker's init layer
/// does. A path the caller mounts something at, or at a parent of, is the caller's; where the image has a link or
/// a directory, it is left as it is. A container on the host's network gets the host's files
/// (<see cref="HostNetworkFiles"/>); one in another namespace (a path in <c>linux.namespaces</c>) gets nothing.
/// </summary>
internal static class OwnNetworkFiles
{
    private const string Hosts = "/etc/hosts";
    private const string Hostname = "/etc/hostname";

    // Docker's lines for the loopback names, the hostname after them.
    private const string Loopback =
        "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n";

    /// <summary>
    /// The files to write for <paramref name="spec"/> (its mounts final). The hostname is the spec's, or else the one
    /// the container inherits: this process's. Where the image has a link or a directory, the child leaves it.
    /// </summary>
    public static IReadOnlyList<RootFile> For(ContainerSpec spec)
    {
        if (!HasOwnNetwork(spec))
        {
            return [];
        }

        var name = spec.Hostname ?? ReadHostname();
        var written = new List<RootFile>(2);
        if (IsFree(spec, Hosts))
        {
            // A name that is not a host name (spaces, a newline) would make other lines of it: only the loopback ones then.
            var own = IsHostName(name) && name != "localhost" ? $"127.0.1.1\t{name}\n" : "";
            written.Add(new RootFile(Hosts, Encoding.UTF8.GetBytes(Loopback + own)));
        }

        if (IsHostName(name) && IsFree(spec, Hostname))
        {
            written.Add(new RootFile(Hostname, Encoding.UTF8.GetBytes(name + "\n")));
        }

        return written;
    }

    /// <summary>
    /// Where a container of an image made with <paramref name="spec"/> had files written, for a commit and a diff to
    /// leave out. (Where the image had a link or a directory nothing was written; a regular file the container put
    /// there itself is left out too, as Docker leaves out whatever a container does to these paths.)
    /// </summary>
    public static IEnumerable<string> Paths(ContainerSpec spec) => HasOwnNetwork(spec) ? [Hosts, Hostname] : [];

    private static bool HasOwnNetwork(ContainerSpec spec) => spec.Linux?.FindNamespace(NamespaceType.Network) is { Path: null or "" };

    /// <summary>Whether the caller mounts nothing at <paramref name="path"/> or at a parent of it.</summary>
    private static bool IsFree(ContainerSpec spec, string path) =>
        !spec.Mounts.Any(m => m.Destination.TrimEnd('/') is var destination && (destination.Length == 0 || path == destination || path.StartsWith(destination + "/", StringComparison.Ordinal)));

    /// <summary>This process's hostname (at most 64 bytes, HOST_NAME_MAX), read without a stream's buffers.</summary>
    private static string ReadHostname()
    {
        try
        {
            using var file = File.OpenHandle("/proc/sys/kernel/hostname");
            Span<byte> buffer = stackalloc byte[128];
            var length = RandomAccess.Read(file, buffer, 0);
            return Encoding.UTF8.GetString(buffer[..length]).TrimEnd('\n');
        }
        catch (IOException)
        {
            return "";
        }
    }

    /// <summary>Letters, digits, dots, hyphens and underscores, neither first nor last a dot or hyphen, at most 253 (a DNS name).</summary>
    private static bool IsHostName(string name) =>
        name.Length is > 0 and <= 253
        && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_')
        && name[0] is not ('.' or '-') && name[^1] is not ('.' or '-');
}
