namespace Containers.Runtime;

/// <summary>
/// How many bytes a container's root filesystem holds (<see cref="Container.MeasureDiskUsage"/>), as <c>docker ps
/// -s</c> shows them: <c>0B (virtual 4.26MB)</c>.
/// </summary>
/// <param name="WritableLayer">
/// What the container added or changed: the files in its own upper directory (Docker's <c>SizeRw</c>). A deleted
/// file takes nothing here and still counts in the layer below.
/// </param>
/// <param name="RootFilesystem">
/// The whole root as it is stored: the writable layer and every lower directory (an image's layers as unpacked, or the
/// directory used copy-on-write) (Docker's <c>SizeRootFs</c>, its "virtual" size).
/// </param>
/// <example>
/// <code>
/// if (container.MeasureDiskUsage(ct) is { } usage)
///     Console.WriteLine($"{usage.WritableLayer} bytes written, {usage.RootFilesystem} in all");
/// </code>
/// </example>
public sealed record ContainerDiskUsage(long WritableLayer, long RootFilesystem);
