namespace Containers.Linux;

/// <summary>
/// Replaces a file so that readers see the old or the new content, never a part of it, and the new content survives
/// a crash: a temporary file in the same directory, flushed to disk, renamed over the target, then the directory
/// fsynced. The temporary name is <c>.NAME.GUID.tmp</c>, which store cleanup recognises.
/// </summary>
internal static class AtomicFile
{
    public static async Task WriteAsync(string path, ReadOnlyMemory<byte> content, CancellationToken cancellationToken)
    {
        string target = Path.GetFullPath(path);
        string directory = Path.GetDirectoryName(target) ?? "/";
        string temporary = Path.Combine(directory, $".{Path.GetFileName(target)}.{Guid.NewGuid():N}.tmp");
        try
        {
            var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.None);
            await using (stream.ConfigureAwait(false))
            {
                await stream.WriteAsync(content, cancellationToken).ConfigureAwait(false);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, target, overwrite: true);
        }
        catch
        {
            if (File.Exists(temporary))
            {
                File.Delete(temporary);
            }

            throw;
        }

        DirectorySync.Sync(directory);
    }
}
