namespace Containers.Images;

/// <summary>What a long image operation is doing, reported through <see cref="IProgress{T}"/>.</summary>
/// <param name="Phase">The current phase.</param>
/// <param name="Item">What is being worked on: an archive name, a blob digest, a layer.</param>
/// <param name="Completed">Bytes (or items) done in this phase for <paramref name="Item"/>.</param>
/// <param name="Total">Bytes (or items) in total for <paramref name="Item"/>, 0 when unknown.</param>
public readonly record struct ImageProgress(ImageProgressPhase Phase, string Item, long Completed, long Total);
