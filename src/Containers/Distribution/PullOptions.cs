using Containers.Images.Model;

namespace Containers.Distribution;

/// <summary>What <see cref="RegistryClient.PullAsync(Images.ImageStore, string, PullOptions, IProgress{TransferProgress}?, CancellationToken)"/> pulls.</summary>
public sealed record PullOptions
{
    /// <summary>The platform to choose from a multi-platform image; null for the host's (<see cref="Platform.Host"/>).</summary>
    public Platform? Platform { get; init; }

    /// <summary>False to store the blobs only; the snapshots are then applied when the image is first used.</summary>
    public bool Unpack { get; init; } = true;
}
