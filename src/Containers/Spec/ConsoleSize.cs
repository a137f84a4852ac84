namespace Containers.Spec;

/// <summary>The terminal size in characters (<c>process.consoleSize</c>); only meaningful with a terminal.</summary>
/// <param name="Height">Rows (<c>height</c>).</param>
/// <param name="Width">Columns (<c>width</c>).</param>
public sealed record ConsoleSize(uint Height, uint Width);
