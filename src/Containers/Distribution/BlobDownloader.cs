using System.Buffers;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Containers.Distribution.Http;
using Containers.Images;
using Containers.Images.Model;

namespace Containers.Distribution;

/// <summary>
/// Downloads one blob into a file while hashing it. A dropped connection or a timed-out read resumes where it stopped
/// with a <c>Range</c> request (the hash state carries over, nothing is read twice); a registry that answers the range
/// with the whole blob starts over. The file is accepted only with exactly the descriptor's size and digest.
/// </summary>
internal static class BlobDownloader
{
    private const int BufferSize = 256 * 1024;

    /// <summary>
    /// Downloads <paramref name="blob"/> into a new file at <paramref name="path"/>; <paramref name="feed"/>, when
    /// given, gets a read handle of the file and every change of its length, for a reader that follows the download.
    /// </summary>
    public static async Task DownloadAsync(RegistryTransport transport, Repository repository, Descriptor blob, string path, Action<long>? progress, BlobFeed? feed, CancellationToken cancellationToken)
    {
        string what = $"download blob {blob.Digest} of {repository.Registry}/{repository.Name}";
        if (blob.Size < 0)
        {
            throw new InvalidImageException($"{what}: the descriptor has the negative size {blob.Size}");
        }

        var algorithm = blob.Digest.Algorithm == "sha512" ? HashAlgorithmName.SHA512 : HashAlgorithmName.SHA256;
        var hash = IncrementalHash.CreateHash(algorithm);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            // Shared for reading: the feed's reader follows the download through its own handle.
            var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read, 1, FileOptions.Asynchronous);
            await using (file.ConfigureAwait(false))
            {
                feed?.Started(File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite));
                long written = 0;
                for (int attempt = 1; ; attempt++)
                {
                    // The file holds exactly the bytes hashed so far (written before hashed); a failed attempt
                    // leaves it at the point to resume from.
                    written = file.Position;
                    try
                    {
                        long from = written;
                        using var response = await transport.SendAsync(repository.Endpoint, repository.Scopes, () => Request(repository.BlobUri(blob.Digest), from), what, retryable: true, cancellationToken).ConfigureAwait(false);
                        await RegistryResponses.EnsureSuccessAsync(response, what, cancellationToken).ConfigureAwait(false);
                        if (written > 0 && response.StatusCode != HttpStatusCode.PartialContent)
                        {
                            file.SetLength(0);
                            file.Position = 0;
                            feed?.Advanced(0);
                            hash.Dispose();
                            hash = IncrementalHash.CreateHash(algorithm);
                            written = 0;
                        }
                        else if (response.StatusCode == HttpStatusCode.PartialContent && response.Content.Headers.ContentRange?.From != written)
                        {
                            throw new RegistryException($"{what}: asked for bytes from {written} but the registry sent a range from {response.Content.Headers.ContentRange?.From}");
                        }

                        written = await CopyAsync(response, file, hash, buffer, written, blob.Size, transport.Timeout, progress, feed, what, cancellationToken).ConfigureAwait(false);
                        break;
                    }
                    catch (Exception e) when (attempt < transport.MaxAttempts && RegistryTransport.IsTransient(e, cancellationToken))
                    {
                        await transport.BackoffAsync(attempt, null, what, $"interrupted after {written} of {blob.Size} bytes ({e.Message})", cancellationToken).ConfigureAwait(false);
                    }
                    catch (Exception e) when (RegistryTransport.IsTransient(e, cancellationToken))
                    {
                        throw RegistryTransport.Unreachable(repository.Registry, what, e);
                    }
                }

                byte[] digestBytes = hash.GetHashAndReset();
                var actual = blob.Digest.Algorithm == "sha512"
                    ? Digest.Parse("sha512:" + Convert.ToHexStringLower(digestBytes))
                    : Digest.FromSha256Hash(digestBytes);
                if (actual != blob.Digest)
                {
                    throw new DigestMismatchException(what, blob.Digest, actual);
                }

                file.Flush(flushToDisk: true);
            }
        }
        finally
        {
            hash.Dispose();
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static HttpRequestMessage Request(Uri uri, long from)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, uri);
        if (from > 0)
        {
            request.Headers.Range = new RangeHeaderValue(from, null);
        }

        return request;
    }

    /// <summary>Appends the body to the file; every read must complete within the timeout. Returns the bytes now in the file.</summary>
    private static async Task<long> CopyAsync(HttpResponseMessage response, FileStream file, IncrementalHash hash, byte[] buffer, long written, long size, TimeSpan timeout, Action<long>? progress, BlobFeed? feed, string what, CancellationToken cancellationToken)
    {
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (body.ConfigureAwait(false))
        {
            while (true)
            {
                idle.CancelAfter(timeout);
                int read;
                try
                {
                    read = await body.ReadAsync(buffer.AsMemory(0, BufferSize), idle.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
                {
                    throw new TimeoutException($"{what}: no data for {timeout.TotalSeconds:0} s", e);
                }

                if (read == 0)
                {
                    break;
                }

                if (written + read > size)
                {
                    throw new InvalidImageException($"{what}: the registry sent more than the descriptor's {size} bytes; the blob is corrupt or hostile");
                }

                await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                hash.AppendData(buffer, 0, read);
                written += read;
                feed?.Advanced(written);
                progress?.Invoke(written);
            }
        }

        return written < size
            ? throw new IOException($"the connection ended after {written} of {size} bytes")
            : written;
    }
}
