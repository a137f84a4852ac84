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
        IsDefined(type) ? All[(int)type] : throw new ArgumentOutOfRangeException(nameof(type), type, "not a namespace type");

    /// <summary>
    /// Whether <paramref name="type"/> is one of the named values. The values are 0 to 7 in the order of
    /// <see cref="All"/>; <c>Enum.IsDefined</c> would say the same through the reflection stack, whose first use
    /// costs a native process more than the validation of a whole spec.
    /// </summary>
    public static bool IsDefined(NamespaceType type) => (uint)type < (uint)All.Count;

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
