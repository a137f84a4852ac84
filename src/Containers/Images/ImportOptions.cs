using Containers.Images.Model;

namespace Containers.Images;

/// <summary>How <see cref="ImageStore.ImportAsync(string, ImportOptions, IProgress{ImageProgress}?, CancellationToken)"/> imports.</summary>
public sealed record ImportOptions
{
    /// <summary>The name to give the imported image; required when the source names none. Null keeps the source's names.</summary>
    public ImageReference? Tag { get; init; }

    /// <summary>The platform to select from a multi-platform index; null selects the host's (<see cref="Platform.Host"/>).</summary>
    public Platform? Platform { get; init; }
}
