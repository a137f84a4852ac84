namespace Containers.Runtime;

/// <summary>Where the container's standard input, output and error go (a terminal, when the spec asks for one, replaces all three).</summary>
public enum ContainerStdio
{
    /// <summary>Pipes: output through <see cref="Container.Stdout"/> and <see cref="Container.Stderr"/>, input through <see cref="Container.Stdin"/>.</summary>
    Pipes,

    /// <summary>The calling process's own fds 0, 1 and 2: output goes straight to where this process's goes.</summary>
    Inherit,

    /// <summary><c>/dev/null</c> for all three.</summary>
    Null,
}
