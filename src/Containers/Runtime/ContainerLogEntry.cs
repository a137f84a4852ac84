namespace Containers.Runtime;

/// <summary>One piece of a container's kept output (<see cref="ContainerCreateOptions.KeepLog"/>), as read by <see cref="Container.ReadLogAsync"/>.</summary>
/// <param name="Stream">The stream it was written to.</param>
/// <param name="Text">The text, including its trailing newline when the line had one.</param>
/// <param name="Time">When the runtime read it from the container.</param>
public readonly record struct ContainerLogEntry(OutputStream Stream, string Text, DateTimeOffset Time);
