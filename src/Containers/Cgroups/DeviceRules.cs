using Containers.Spec;

namespace Containers.Cgroups;

/// <summary>
/// The devices a container may use: everything is denied, then the standard list is allowed (the nodes a minimal
/// <c>/dev</c> holds, as Docker and runc allow them), then the spec's own rules apply in order.
/// </summary>
internal static class DeviceRules
{
    /// <summary>The standard allow list: creating any node (using one is what the rules decide), null, zero, full, random, urandom, tty, console, ptmx, the pts and tun.</summary>
    public static readonly IReadOnlyList<LinuxDeviceCgroup> Standard =
    [
        Allow("c", null, null, "m"),
        Allow("b", null, null, "m"),
        Allow("c", 1, 3, "rwm"),
        Allow("c", 1, 5, "rwm"),
        Allow("c", 1, 7, "rwm"),
        Allow("c", 1, 8, "rwm"),
        Allow("c", 1, 9, "rwm"),
        Allow("c", 5, 0, "rwm"),
        Allow("c", 5, 1, "rwm"),
        Allow("c", 5, 2, "rwm"),
        Allow("c", 136, null, "rwm"),
        Allow("c", 10, 200, "rwm"),
    ];

    /// <summary>The standard allow list as v1's <c>devices.allow</c> takes it (<c>c 1:3 rwm</c>).</summary>
    public static readonly IReadOnlyList<string> Allowed = [.. Standard.Select(Format)];

    /// <summary>A rule as the v1 devices controller reads it: <c>type major:minor access</c>.</summary>
    public static string Format(LinuxDeviceCgroup rule)
    {
        var type = string.IsNullOrEmpty(rule.Type) ? "a" : rule.Type;
        var major = rule.Major is { } m ? m.ToString(System.Globalization.CultureInfo.InvariantCulture) : "*";
        var minor = rule.Minor is { } n ? n.ToString(System.Globalization.CultureInfo.InvariantCulture) : "*";
        var access = string.IsNullOrEmpty(rule.Access) ? "rwm" : rule.Access;
        return type == "a" ? $"a *:* {access}" : $"{type} {major}:{minor} {access}";
    }

    private static LinuxDeviceCgroup Allow(string type, long? major, long? minor, string access) =>
        new() { Allow = true, Type = type, Major = major, Minor = minor, Access = access };
}
