using System.Collections.Immutable;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Containers.Spec;

namespace Containers.Tests.Spec;

/// <summary>
/// Every field of the spec model is either applied by the runtime or refused by <see cref="ContainerSpec.Validate"/>:
/// a field added to the model without that decision fails here.
/// </summary>
public class SpecCoverageTests
{
    /// <summary>
    /// Fields the runtime applies (or, for <c>ociVersion</c> and <c>annotations</c>, keeps as the metadata they are).
    /// A path ending in <c>[]</c> stands for every element of a list. The fields of an applied object are decided one
    /// by one; a refused object is refused whole.
    /// </summary>
    private static readonly ImmutableHashSet<string> Applied =
    [
        "ociVersion", "hostname", "annotations",
        "process", "process.terminal", "process.args", "process.env", "process.cwd", "process.noNewPrivileges",
        "process.user", "process.user.uid", "process.user.gid", "process.user.umask", "process.user.additionalGids",
        "process.rlimits", "process.rlimits[].type", "process.rlimits[].hard", "process.rlimits[].soft",
        "root", "root.path", "root.readonly",
        "mounts", "mounts[].destination", "mounts[].type", "mounts[].source", "mounts[].options",
        "linux", "linux.namespaces", "linux.namespaces[].type", "linux.namespaces[].path",
        "linux.uidMappings", "linux.uidMappings[].containerID", "linux.uidMappings[].hostID", "linux.uidMappings[].size",
        "linux.gidMappings", "linux.gidMappings[].containerID", "linux.gidMappings[].hostID", "linux.gidMappings[].size",
        "linux.maskedPaths", "linux.readonlyPaths",
        "process.capabilities", "process.capabilities.bounding", "process.capabilities.effective",
        "process.capabilities.inheritable", "process.capabilities.permitted", "process.capabilities.ambient",
        "linux.seccomp", "linux.seccomp.defaultAction", "linux.seccomp.defaultErrnoRet", "linux.seccomp.architectures",
        "linux.seccomp.flags", "linux.seccomp.syscalls", "linux.seccomp.syscalls[].names", "linux.seccomp.syscalls[].action",
        "linux.seccomp.syscalls[].errnoRet", "linux.seccomp.syscalls[].args", "linux.seccomp.syscalls[].args[].index",
        "linux.seccomp.syscalls[].args[].value", "linux.seccomp.syscalls[].args[].valueTwo", "linux.seccomp.syscalls[].args[].op",
        "process.oomScoreAdj",
        "linux.devices", "linux.devices[].path", "linux.devices[].type", "linux.devices[].major", "linux.devices[].minor",
        "linux.devices[].fileMode", "linux.devices[].uid", "linux.devices[].gid",
        "linux.resources", "linux.resources.devices", "linux.resources.devices[].allow", "linux.resources.devices[].type",
        "linux.resources.devices[].major", "linux.resources.devices[].minor", "linux.resources.devices[].access",
        "linux.resources.memory", "linux.resources.memory.limit", "linux.resources.memory.reservation", "linux.resources.memory.swap",
        "linux.resources.memory.swappiness", "linux.resources.memory.disableOOMKiller",
        "linux.resources.cpu", "linux.resources.cpu.shares", "linux.resources.cpu.quota", "linux.resources.cpu.burst",
        "linux.resources.cpu.period", "linux.resources.cpu.cpus", "linux.resources.cpu.mems", "linux.resources.cpu.idle",
        "linux.resources.pids", "linux.resources.pids.limit",
        "linux.resources.unified", // memory.high; every other key is refused by name (ContainerSpecValidationTests)
        "linux.resources.hugepageLimits", "linux.resources.hugepageLimits[].pageSize", "linux.resources.hugepageLimits[].limit",
        "linux.resources.blockIO", "linux.resources.blockIO.weight",
        "linux.resources.blockIO.throttleReadBpsDevice", "linux.resources.blockIO.throttleReadBpsDevice[].major",
        "linux.resources.blockIO.throttleReadBpsDevice[].minor", "linux.resources.blockIO.throttleReadBpsDevice[].rate",
        "linux.resources.blockIO.throttleWriteBpsDevice", "linux.resources.blockIO.throttleWriteBpsDevice[].major",
        "linux.resources.blockIO.throttleWriteBpsDevice[].minor", "linux.resources.blockIO.throttleWriteBpsDevice[].rate",
        "linux.resources.blockIO.throttleReadIOPSDevice", "linux.resources.blockIO.throttleReadIOPSDevice[].major",
        "linux.resources.blockIO.throttleReadIOPSDevice[].minor", "linux.resources.blockIO.throttleReadIOPSDevice[].rate",
        "linux.resources.blockIO.throttleWriteIOPSDevice", "linux.resources.blockIO.throttleWriteIOPSDevice[].major",
        "linux.resources.blockIO.throttleWriteIOPSDevice[].minor", "linux.resources.blockIO.throttleWriteIOPSDevice[].rate",
    ];

    /// <summary>Fields the runtime does not apply yet, each with a well-formed JSON value that sets it.</summary>
    private static readonly ImmutableDictionary<string, string> Refused = new Dictionary<string, string>
    {
        ["domainname"] = "\"example.org\"",
        ["hooks"] = """{ "poststop": [{ "path": "/bin/true" }] }""",
        ["solaris"] = """{ "milestone": "svc:/milestone/container:default" }""",
        ["windows"] = """{ "layerFolders": ["C:\\layers\\1"] }""",
        ["vm"] = """{ "kernel": { "path": "/boot/vmlinuz" } }""",
        ["zos"] = """{ "namespaces": [{ "type": "pid" }] }""",
        ["freebsd"] = """{ "jail": { "host": "new" } }""",
        ["mounts[].uidMappings"] = """[{ "containerID": 0, "hostID": 1000, "size": 1 }]""",
        ["mounts[].gidMappings"] = """[{ "containerID": 0, "hostID": 1000, "size": 1 }]""",
        ["process.consoleSize"] = """{ "height": 24, "width": 80 }""",
        ["process.user.username"] = "\"ContainerUser\"",
        ["process.commandLine"] = "\"cmd /c echo hi\"",
        ["process.apparmorProfile"] = "\"unconfined\"",
        ["process.scheduler"] = """{ "policy": "SCHED_BATCH" }""",
        ["process.selinuxLabel"] = "\"system_u:system_r:container_t:s0\"",
        ["process.ioPriority"] = """{ "class": "IOPRIO_CLASS_IDLE", "priority": 7 }""",
        ["process.execCPUAffinity"] = """{ "final": "0" }""",
        ["linux.sysctl"] = """{ "kernel.msgmax": "8192" }""",
        ["linux.resources.network"] = """{ "classID": 1 }""",
        ["linux.resources.rdma"] = """{ "mlx5_1": { "hcaHandles": 3 } }""",
        ["linux.resources.memory.kernel"] = "1048576",
        ["linux.resources.memory.kernelTCP"] = "1048576",
        ["linux.resources.memory.useHierarchy"] = "true",
        ["linux.resources.memory.checkBeforeUpdate"] = "true",
        ["linux.resources.cpu.realtimeRuntime"] = "1000",
        ["linux.resources.cpu.realtimePeriod"] = "1000000",
        ["linux.resources.blockIO.leafWeight"] = "100",
        ["linux.resources.blockIO.weightDevice"] = """[{ "major": 8, "minor": 0, "weight": 100 }]""",
        ["linux.cgroupsPath"] = "\"/box\"",
        ["linux.netDevices"] = """{ "eth1": { "name": "eth0" } }""",
        ["linux.seccomp.listenerPath"] = "\"/run/seccomp-agent.sock\"",
        ["linux.seccomp.listenerMetadata"] = "\"box\"",
        ["linux.rootfsPropagation"] = "\"rprivate\"",
        ["linux.mountLabel"] = "\"system_u:object_r:container_file_t:s0\"",
        ["linux.intelRdt"] = """{ "closID": "box" }""",
        ["linux.memoryPolicy"] = """{ "mode": "MPOL_BIND", "nodes": "0" }""",
        ["linux.personality"] = """{ "domain": "LINUX32" }""",
        ["linux.timeOffsets"] = """{ "monotonic": { "secs": 10 } }""",
    }.ToImmutableDictionary();

    public static TheoryData<string> RefusedPaths => [.. Refused.Keys.Order(StringComparer.Ordinal)];

    [Fact]
    public void Every_field_of_the_model_is_applied_or_refused()
    {
        var undecided = ModelPaths().Where(p => !Applied.Contains(p) && !Refused.ContainsKey(p)).ToList();

        Assert.True(undecided.Count == 0,
            "fields neither applied nor refused by Validate (apply them, or refuse them in SpecValidator.Unsupported.cs "
            + "and list them here): " + string.Join(", ", undecided));
    }

    [Fact]
    public void Every_decision_names_a_field_of_the_model()
    {
        var paths = ModelPaths().ToHashSet(StringComparer.Ordinal);

        var stale = Applied.Concat(Refused.Keys).Where(p => !paths.Contains(p)).ToList();
        Assert.True(stale.Count == 0, "decided paths that are not fields of the model: " + string.Join(", ", stale));
        Assert.Empty(Applied.Intersect(Refused.Keys));
    }

    [Theory]
    [MemberData(nameof(RefusedPaths))]
    public void A_refused_field_set_in_config_json_is_reported_at_its_path(string path)
    {
        var config = JsonNode.Parse(ContainerSpec.For("/bin/true").ToJson())!;
        Set(config, path.Replace("[]", "[0]", StringComparison.Ordinal), JsonNode.Parse(Refused[path])!);

        var errors = ContainerSpec.FromJson(config.ToJsonString()).Validate();

        string expected = path.Replace("[]", "[0]", StringComparison.Ordinal);
        var error = Assert.Single(errors, e => e.JsonPath == expected && e.Message.StartsWith("is not supported yet", StringComparison.Ordinal));
        Assert.EndsWith(": remove it", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_default_spec_sets_no_refused_field()
    {
        Assert.Empty(ContainerSpec.For("/bin/true").Validate());
    }

    // The JSON path of every property reachable from ContainerSpec, descending into the objects that are applied.
    private static IEnumerable<string> ModelPaths()
    {
        var pending = new Queue<(Type Type, string Prefix)>([(typeof(ContainerSpec), "")]);
        while (pending.TryDequeue(out var item))
        {
            foreach (var property in item.Type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
            {
                if (property.GetCustomAttribute<JsonIgnoreAttribute>() is not null || property.SetMethod is null)
                {
                    continue;
                }

                string name = property.GetCustomAttribute<JsonPropertyNameAttribute>()?.Name ?? JsonNamingPolicy.CamelCase.ConvertName(property.Name);
                string path = item.Prefix + name;
                yield return path;

                var (type, suffix) = ElementOf(property.PropertyType);
                if (Applied.Contains(path) && type.Namespace == typeof(ContainerSpec).Namespace && type.IsClass)
                {
                    pending.Enqueue((type, path + suffix + "."));
                }
            }
        }
    }

    private static (Type Type, string Suffix) ElementOf(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(ImmutableArray<>))
        {
            return (type.GetGenericArguments()[0], "[]");
        }

        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(ImmutableSortedDictionary<,>))
        {
            return (type.GetGenericArguments()[1], "{}");
        }

        return (type, "");
    }

    // Sets the node at a path such as "mounts[0].uidMappings", creating objects on the way.
    private static void Set(JsonNode root, string path, JsonNode value)
    {
        var parts = path.Split('.');
        JsonNode node = root;
        foreach (string part in parts[..^1])
        {
            node = Child(node, part) ?? (node[part] = new JsonObject());
        }

        string last = parts[^1];
        int bracket = last.IndexOf('[', StringComparison.Ordinal);
        Assert.True(bracket < 0, $"a refused field is set whole, not by element: {path}");
        node[last] = value;
    }

    private static JsonNode? Child(JsonNode node, string part)
    {
        int bracket = part.IndexOf('[', StringComparison.Ordinal);
        return bracket < 0
            ? node[part]
            : node[part[..bracket]]![int.Parse(part[(bracket + 1)..^1], System.Globalization.CultureInfo.InvariantCulture)];
    }
}
