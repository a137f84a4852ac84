namespace Containers.Spec;

/// <summary>
/// One entry of <c>linux.namespaces</c>. Without <see cref="Path"/> the container gets a new namespace of this
/// type; with a path it joins that existing namespace (for example <c>/proc/1234/ns/net</c>). A type that is not
/// listed at all is shared with the host.
/// </summary>
/// <param name="Type">The namespace kind (<c>type</c>).</param>
/// <param name="Path">An absolute path to a namespace file to join (<c>path</c>), or null for a new namespace.</param>
public sealed record LinuxNamespace(NamespaceType Type, string? Path = null);
