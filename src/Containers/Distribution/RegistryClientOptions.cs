using Microsoft.Extensions.Logging;

namespace Containers.Distribution;

/// <summary>How a <see cref="RegistryClient"/> connects, authenticates, retries and transfers.</summary>
public sealed record RegistryClientOptions
{
    /// <summary>Where credentials come from; null reads Docker's config file (<see cref="DockerCredentials"/>).</summary>
    public IRegistryCredentialProvider? Credentials { get; init; }

    /// <summary>
    /// Registries (<c>host[:port]</c>) that may be reached over plain HTTP and whose TLS certificates are not verified.
    /// Loopback registries (<c>localhost</c>, <c>127.0.0.0/8</c>, <c>::1</c>) may always fall back to plain HTTP when they
    /// do not speak TLS, but their certificates are verified when they do.
    /// </summary>
    public IReadOnlySet<string> InsecureRegistries { get; init; } = new HashSet<string>(StringComparer.OrdinalIgnoreCase);

    /// <summary>A PEM file of CA certificates trusted in addition to the system's store; null for the system's only.</summary>
    public string? CaCertificateFile { get; init; }

    /// <summary>How long connecting, waiting for response headers, or one read of a body may take (default 60 s).</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How many times a request is tried on 429, 5xx and dropped connections (default 5).</summary>
    public int MaxAttempts { get; init; } = 5;

    /// <summary>The first retry delay; it doubles per attempt, with full jitter, up to 10 s (default 250 ms).</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>How many blobs download or upload at once (default 3).</summary>
    public int MaxConcurrentTransfers { get; init; } = 3;

    /// <summary>
    /// Blobs larger than this are uploaded in chunks of this size (PATCH with <c>Content-Range</c>); smaller ones in one
    /// PUT (default 16 MiB).
    /// </summary>
    public long UploadChunkSize { get; init; } = 16L << 20;

    /// <summary>Makes the client's logger; null logs nothing.</summary>
    public ILoggerFactory? LoggerFactory { get; init; }

    internal void Validate()
    {
        if (Timeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(Timeout), Timeout, "the timeout must be positive");
        }

        if (MaxAttempts < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxAttempts), MaxAttempts, "at least one attempt is needed");
        }

        if (RetryDelay < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(RetryDelay), RetryDelay, "the retry delay must not be negative");
        }

        if (MaxConcurrentTransfers < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxConcurrentTransfers), MaxConcurrentTransfers, "at least one transfer must be allowed");
        }

        if (UploadChunkSize < 1 << 20)
        {
            throw new ArgumentOutOfRangeException(nameof(UploadChunkSize), UploadChunkSize, "the upload chunk size must be at least 1 MiB");
        }

        if (CaCertificateFile is not null && !File.Exists(CaCertificateFile))
        {
            throw new ArgumentException($"the CA certificate file {CaCertificateFile} does not exist", nameof(CaCertificateFile));
        }
    }
}
