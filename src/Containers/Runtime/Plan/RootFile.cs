namespace Containers.Runtime.Plan;

/// <summary>A file the runtime writes into a container's root before its program runs (<see cref="RootFilesStep"/>).</summary>
/// <param name="Path">Where, absolute in the container.</param>
/// <param name="Content">What it holds.</param>
internal sealed record RootFile(string Path, byte[] Content);
