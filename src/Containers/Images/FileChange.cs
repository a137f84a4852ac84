namespace Containers.Images;

/// <summary>One changed path of a container's root, relative to its image.</summary>
/// <param name="Kind">Added, changed or deleted.</param>
/// <param name="Path">The absolute path inside the container (<c>/etc/hosts</c>).</param>
/// <example>
/// <code>
/// foreach (var change in await store.DiffAsync("busybox", upperDirectory, ct)) Console.WriteLine(change);
/// // C /etc
/// // A /etc/motd
/// // D /bin/sh
/// </code>
/// </example>
public readonly record struct FileChange(FileChangeKind Kind, string Path)
{
    /// <summary>The change as <c>docker diff</c> prints it: <c>A /path</c>, <c>C /path</c> or <c>D /path</c>.</summary>
    /// <returns>The letter, a space and the path.</returns>
    public override string ToString() => $"{Kind switch { FileChangeKind.Added => 'A', FileChangeKind.Changed => 'C', _ => 'D' }} {Path}";
}
