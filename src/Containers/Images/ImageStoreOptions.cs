using Microsoft.Extensions.Logging;

namespace Containers.Images;

/// <summary>Where an <see cref="ImageStore"/> lives and how it behaves.</summary>
public sealed record ImageStoreOptions
{
    /// <summary>
    /// The store root. Null chooses the default: <c>/var/lib/containers-net</c> as root,
    /// <c>$XDG_DATA_HOME/containers-net</c> (or <c>~/.local/share/containers-net</c>) otherwise.
    /// </summary>
    public string? Root { get; init; }

    /// <summary>
    /// True for a store that an unprivileged user owns (overlay metadata in <c>user.*</c> xattrs, owners recorded
    /// rather than applied). Null decides by whether the process is privileged.
    /// </summary>
    public bool? Rootless { get; init; }

    /// <summary>Makes the store's logger; null logs nothing.</summary>
    public ILoggerFactory? LoggerFactory { get; init; }

    /// <summary>
    /// Images in use by something outside the store (containers): their manifest digests. <see cref="ImageStore.PruneAsync"/>
    /// and <see cref="ImageStore.RemoveAsync(string, CancellationToken)"/> keep everything these reach.
    /// </summary>
    public Func<CancellationToken, ValueTask<IEnumerable<Digest>>>? InUseImages { get; init; }

    /// <summary>
    /// The most layers an image may have (default 500, overlayfs's limit on stacked lower directories). An import
    /// of an image with more is refused before anything is stored.
    /// </summary>
    public int MaxLayers { get; init; } = DefaultMaxLayers;

    /// <summary>The default of <see cref="MaxLayers"/>.</summary>
    public const int DefaultMaxLayers = 500;

    /// <summary>The default root for the current process: privileged or not.</summary>
    public static string DefaultRoot
    {
        get
        {
            if (Environment.IsPrivilegedProcess)
            {
                return "/var/lib/containers-net";
            }

            string? data = Environment.GetEnvironmentVariable("XDG_DATA_HOME");
            if (string.IsNullOrEmpty(data) || !Path.IsPathRooted(data))
            {
                data = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share");
            }

            return Path.Combine(data, "containers-net");
        }
    }
}
