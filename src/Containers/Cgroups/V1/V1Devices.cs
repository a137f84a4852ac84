using Containers.Spec;

namespace Containers.Cgroups.V1;

/// <summary>The v1 devices controller: deny all, allow the standard list, then the spec's rules in order.</summary>
internal static class V1Devices
{
    public const string Name = "devices";

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
