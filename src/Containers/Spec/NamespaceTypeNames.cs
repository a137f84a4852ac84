using System.Diagnostics.CodeAnalysis;

namespace Containers.Spec;

/// <summary>The OCI names of <see cref="NamespaceType"/> values, used by JSON and by error messages.</summary>
internal static class NamespaceTypeNames
{
    /// <summary>Every OCI namespace name, in the order of <see cref="NamespaceType"/>.</summary>
    public static IReadOnlyList<string> All { get; } = ["pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time"];

    /// <summary>The OCI name of <paramref name="type"/>, for example <c>network</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="type"/> is not a defined value.</exception>
    public static string ToOciName(this NamespaceType type) =>
        Enum.IsDefined(type) ? All[(int)type] : throw new ArgumentOutOfRangeException(nameof(type), type, "not a namespace type");

    /// <summary>Finds the namespace type with the OCI name <paramref name="name"/> (exact, lowercase).</summary>
    public static bool TryParse([NotNullWhen(true)] string? name, out NamespaceType type)
    {
        for (int i = 0; i < All.Count; i++)
        {
            if (string.Equals(All[i], name, StringComparison.Ordinal))
            {
                type = (NamespaceType)i;
                return true;
            }
        }

        type = default;
        return false;
    }
}
