using System.Buffers;
using System.Security.Cryptography;
using Containers.Images.Model;
using Containers.Linux;

namespace Containers.Images.Store;

/// <summary>
/// The blobs of an OCI image layout (<c>blobs/&lt;alg&gt;/&lt;hex&gt;</c>). Content enters through <c>ingest/</c>:
/// it is written and hashed there, fsynced, and renamed into <c>blobs/</c> only once its size and digest match, so a
/// blob path always holds exactly the content its name promises.
/// </summary>
internal sealed class ContentStore
{
    private const int BufferSize = 1 << 20;

    public ContentStore(string root)
    {
        Root = root;
        BlobsDirectory = Path.Combine(root, "blobs");
        IngestDirectory = Path.Combine(root, "ingest");
    }

    public string Root { get; }

    public string BlobsDirectory { get; }

    public string IngestDirectory { get; }

    public string BlobPath(Digest digest) => Path.Combine(BlobsDirectory, digest.Algorithm, digest.Hex);

    public bool Exists(Digest digest) => File.Exists(BlobPath(digest));

    /// <summary>The lock file that serialises writers of one digest.</summary>
    public string KeyLockPath(Digest digest) => Path.Combine(IngestDirectory, $"{digest.Algorithm}-{digest.Hex}.lock");

    public Stream OpenRead(Digest digest)
    {
        try
        {
            return new FileStream(BlobPath(digest), FileMode.Open, FileAccess.Read, FileShare.Read, BufferSize, FileOptions.SequentialScan | FileOptions.Asynchronous);
        }
        catch (FileNotFoundException e)
        {
            throw new InvalidImageException($"blob {digest} is missing from the store at {Root}: the store is damaged; remove and re-import the image", e);
        }
    }

    /// <summary>Reads a small document blob (index, manifest, config) and checks its size bound and digest.</summary>
    public async Task<byte[]> ReadDocumentAsync(Digest digest, long? expectedSize, string what, CancellationToken cancellationToken)
    {
        var path = BlobPath(digest);
        return await ReadVerifiedDocumentAsync(path, digest, expectedSize, what, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reads a document from any file, bounded and verified against <paramref name="digest"/>.</summary>
    public static async Task<byte[]> ReadVerifiedDocumentAsync(string path, Digest digest, long? expectedSize, string what, CancellationToken cancellationToken)
    {
        byte[] content = await ReadBoundedAsync(path, what, cancellationToken).ConfigureAwait(false);
        if (expectedSize is { } size && size != content.Length)
        {
            throw new InvalidImageException($"{what}: the descriptor says {size} bytes but {digest} has {content.Length}");
        }

        var actual = Hash(digest.Algorithm, content);
        if (actual != digest)
        {
            throw new DigestMismatchException(what, digest, actual);
        }

        return content;
    }

    /// <summary>
    /// Opens a file of an image source (or of the store) for reading: never blocking on a FIFO or device, refusing a
    /// symlink in the last component unless <paramref name="followSymlink"/>, and refusing anything but a regular file.
    /// </summary>
    /// <exception cref="InvalidImageException">The file is missing, unreadable, a symlink, or not a regular file.</exception>
    public static FileStream OpenUntrusted(string path, string what, bool followSymlink = false, int bufferSize = 4096)
    {
        var handle = UntrustedFile.OpenRegular(path, followSymlink, out int errno, out uint fileType);
        if (!handle.IsInvalid)
        {
            return new FileStream(handle, FileAccess.Read, bufferSize, isAsync: false);
        }

        throw errno switch
        {
            0 => new InvalidImageException($"{what}: {path} is {UntrustedFile.Describe(fileType)}, not a regular file"),
            Errno.ENOENT or Errno.ENOTDIR => new InvalidImageException($"{what}: {path} does not exist"),
            Errno.ELOOP => new InvalidImageException($"{what}: {path} is a symbolic link; image files must be regular files"),
            _ => new InvalidImageException($"{what}: cannot open {path}: {Errno.Name(errno)} ({Errno.Describe(errno)})"),
        };
    }

    /// <summary>Reads a JSON file that has no digest (index.json, manifest.json) with the document size bound.</summary>
    /// <remarks>
    /// Completes synchronously: a document is at most <see cref="ImageDocuments.MaxDocumentSize"/> bytes of a regular
    /// file (<see cref="OpenUntrusted"/> refuses FIFOs and devices), and an asynchronous read of a handle opened for
    /// synchronous I/O would only hand the same read to a pool thread, a wake-up per document.
    /// </remarks>
    public static Task<byte[]> ReadBoundedAsync(string path, string what, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        using var stream = OpenUntrusted(path, what);
        ImageDocuments.CheckSize(stream.Length, what);
        var content = new byte[stream.Length];
        stream.ReadExactly(content);
        return Task.FromResult(content);
    }

    /// <summary>
    /// Copies <paramref name="source"/> into a new file under <c>ingest/</c>, hashing as it goes, and returns its
    /// path once it is fsynced and matches <paramref name="expected"/> and <paramref name="expectedSize"/>. On any
    /// failure the partial file is deleted.
    /// </summary>
    public async Task<string> StageAsync(Stream source, Digest expected, long expectedSize, string what, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        string staged = Path.Combine(IngestDirectory, $"{expected.Algorithm}-{expected.Hex}.{Guid.NewGuid():N}.partial");
        try
        {
            var output = new FileStream(staged, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.Asynchronous);
            await using (output.ConfigureAwait(false))
            {
                var (actual, length) = await HashCopyAsync(source, output, expected.Algorithm, expectedSize, progress, cancellationToken).ConfigureAwait(false);
                CheckContent(what, expected, expectedSize, actual, length);
                output.Flush(flushToDisk: true);
            }

            return staged;
        }
        catch
        {
            File.Delete(staged);
            throw;
        }
    }

    /// <summary>Hashes a file in place and checks it against <paramref name="expected"/>.</summary>
    public static async Task VerifyFileAsync(string path, Digest expected, long? expectedSize, string what, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        var input = OpenUntrusted(path, what, bufferSize: 1);
        await using (input.ConfigureAwait(false))
        {
            long limit = expectedSize ?? input.Length;
            var (actual, length) = await HashCopyAsync(input, null, expected.Algorithm, limit, progress, cancellationToken).ConfigureAwait(false);
            CheckContent(what, expected, limit, actual, length);
        }
    }

    /// <summary>
    /// Renames verified files into <c>blobs/</c> and fsyncs the directories, so the blobs survive a crash. A blob that
    /// already exists is left as it is (content addressing makes both copies identical).
    /// </summary>
    public void Publish(IEnumerable<(string StagedPath, Digest Digest)> staged)
    {
        var directories = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (path, digest) in staged)
        {
            string target = BlobPath(digest);
            string directory = Path.GetDirectoryName(target)!;
            Directory.CreateDirectory(directory);
            File.Move(path, target, overwrite: true);
            directories.Add(directory);
        }

        foreach (var directory in directories)
        {
            DirectorySync.Sync(directory);
        }
    }

    public IEnumerable<Digest> ListBlobs()
    {
        if (!Directory.Exists(BlobsDirectory))
        {
            yield break;
        }

        foreach (var algorithmDirectory in Directory.EnumerateDirectories(BlobsDirectory))
        {
            string algorithm = Path.GetFileName(algorithmDirectory);
            foreach (var file in Directory.EnumerateFiles(algorithmDirectory))
            {
                if (Digest.TryParse($"{algorithm}:{Path.GetFileName(file)}", out var digest))
                {
                    yield return digest;
                }
            }
        }
    }

    /// <summary>Deletes a blob; returns the bytes freed.</summary>
    public long Delete(Digest digest)
    {
        var info = new FileInfo(BlobPath(digest));
        if (!info.Exists)
        {
            return 0;
        }

        long size = info.Length;
        info.Delete();
        return size;
    }

    public static Digest Hash(string algorithm, ReadOnlySpan<byte> content) => algorithm switch
    {
        "sha256" => Digest.Sha256(content),
        _ => Digest.Parse($"sha512:{Convert.ToHexStringLower(SHA512.HashData(content))}"),
    };

    /// <summary>
    /// Copies up to <paramref name="limit"/> + 1 bytes (one more than allowed, to detect content that is too long
    /// without reading it all) while hashing.
    /// </summary>
    internal static async Task<(Digest Digest, long Length)> HashCopyAsync(Stream source, Stream? destination, string algorithm, long limit, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        using var hash = IncrementalHash.CreateHash(algorithm == "sha512" ? HashAlgorithmName.SHA512 : HashAlgorithmName.SHA256);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            long total = 0;
            while (total <= limit)
            {
                int want = (int)Math.Min(buffer.Length, limit + 1 - total);
                int read = await source.ReadAsync(buffer.AsMemory(0, want), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                hash.AppendData(buffer, 0, read);
                if (destination is not null)
                {
                    await destination.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                }

                total += read;
                progress?.Report(total);
            }

            byte[] result = hash.GetHashAndReset();
            var digest = algorithm == "sha512" ? Digest.Parse($"sha512:{Convert.ToHexStringLower(result)}") : Digest.FromSha256Hash(result);
            return (digest, total);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static void CheckContent(string what, Digest expected, long expectedSize, Digest actual, long length)
    {
        if (length != expectedSize)
        {
            throw new InvalidImageException($"{what}: expected {expectedSize} bytes for {expected} but the content has {(length > expectedSize ? "more" : length.ToString(System.Globalization.CultureInfo.InvariantCulture))}; the source is corrupt or truncated");
        }

        if (actual != expected)
        {
            throw new DigestMismatchException(what, expected, actual);
        }
    }
}
