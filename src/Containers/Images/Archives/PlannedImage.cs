using Containers.Images.Model;

namespace Containers.Images.Archives;

/// <summary>An image found in an import source, with its documents read and checked and its layer files located.</summary>
internal sealed record PlannedImage
{
    public required IReadOnlyList<ImageReference> Names { get; init; }

    public required Descriptor ManifestDescriptor { get; init; }

    public required byte[] ManifestBytes { get; init; }

    public required ImageManifest Manifest { get; init; }

    public required byte[] ConfigBytes { get; init; }

    public required ImageConfig Config { get; init; }

    /// <summary>The source file of each layer, in manifest order.</summary>
    public required IReadOnlyList<string> LayerFiles { get; init; }

    /// <summary>Whether each layer file was already hashed against its descriptor while planning.</summary>
    public required IReadOnlyList<bool> LayerVerified { get; init; }
}
