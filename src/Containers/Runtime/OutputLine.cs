namespace Containers.Runtime;

/// <summary>One line of a container's output, without its line terminator.</summary>
/// <param name="Stream">The stream the line was written to.</param>
/// <param name="Text">The line's text, decoded as UTF-8.</param>
public readonly record struct OutputLine(OutputStream Stream, string Text);
