using Containers.Spec;

namespace Containers.Cgroups.V1;

/// <summary>The v1 devices controller: deny all, allow the standard list, then the spec's rules in order.</summary>
internal static class V1Devices
{
    public const string Name = "devices";

    /// <summary>
    /// Whether a released cgroup's device list is the standard one a new cgroup gets (<see cref="V1Driver.Recycle"/>):
    /// not when the spec's rules, or a later update's, changed it.
    /// </summary>
    public static bool Renew(CgroupFiles files, string dir) =>
        files.TryRead(dir, "devices.list") is { } list && list.Split('\n').SequenceEqual(DeviceRules.Allowed);

    public static void Apply(string dir, LinuxResources resources, bool reset)
    {
        if (reset)
        {
            CgroupFile.Write(dir, "devices.deny", "a", null);
            foreach (var rule in DeviceRules.Allowed)
            {
                CgroupFile.Write(dir, "devices.allow", rule, null);
            }
        }

        for (var i = 0; i < resources.Devices.Length; i++)
        {
            var rule = resources.Devices[i];
            CgroupFile.Write(dir, rule.Allow ? "devices.allow" : "devices.deny", DeviceRules.Format(rule), $"linux.resources.devices[{i}]");
        }
    }
}
