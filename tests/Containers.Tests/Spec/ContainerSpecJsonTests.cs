using System.Collections.Immutable;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Containers.Spec;

namespace Containers.Tests.Spec;

public class ContainerSpecJsonTests
{
    // Shaped like `runc spec --rootless` output, plus a joined namespace, sysctls, limits, an AppArmor profile and annotations.
    internal const string RuncConfig = """
        {
          "ociVersion": "1.2.0",
          "process": {
            "terminal": true,
            "consoleSize": { "height": 24, "width": 80 },
            "user": { "uid": 1000, "gid": 1000, "umask": 18, "additionalGids": [5, 100] },
            "args": ["sh"],
            "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
            "cwd": "/",
            "capabilities": {
              "bounding": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
              "effective": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
              "permitted": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
              "ambient": ["CAP_NET_BIND_SERVICE"]
            },
            "apparmorProfile": "unconfined",
            "rlimits": [{ "type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024 }],
            "noNewPrivileges": true
          },
          "root": { "path": "rootfs", "readonly": true },
          "hostname": "runc",
          "mounts": [
            { "destination": "/proc", "type": "proc", "source": "proc" },
            { "destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"] },
            { "destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"] },
            { "destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"] },
            { "destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"] },
            { "destination": "/sys", "type": "none", "source": "/sys", "options": ["rbind", "nosuid", "noexec", "nodev", "ro"] }
          ],
          "linux": {
            "uidMappings": [{ "containerID": 0, "hostID": 1000, "size": 1 }],
            "gidMappings": [{ "containerID": 0, "hostID": 1000, "size": 1 }],
            "sysctl": { "net.ipv4.ip_forward": "1" },
            "resources": {
              "devices": [{ "allow": false, "access": "rwm" }],
              "memory": { "limit": 536870912, "reservation": 268435456, "swap": 1073741824 },
              "cpu": { "shares": 512, "quota": 50000, "period": 100000, "cpus": "0-1", "mems": "0" },
              "pids": { "limit": 64 }
            },
            "cgroupsPath": "/containers/runc",
            "namespaces": [
              { "type": "pid" },
              { "type": "ipc" },
              { "type": "uts" },
              { "type": "mount" },
              { "type": "user" },
              { "type": "network", "path": "/proc/1234/ns/net" }
            ],
            "maskedPaths": ["/proc/acpi", "/proc/kcore", "/sys/firmware"],
            "readonlyPaths": ["/proc/bus", "/proc/sys"]
          },
          "annotations": { "org.opencontainers.image.title": "demo" }
        }
        """;

    [Fact]
    public void A_runc_style_config_reads_into_every_field()
    {
        var spec = ContainerSpec.FromJson(RuncConfig);

        Assert.Equal("1.2.0", spec.OciVersion);
        var process = Assert.IsType<ProcessSpec>(spec.Process);
        Assert.True(process.Terminal);
        Assert.Equal(new ConsoleSize(24, 80), process.ConsoleSize);
        Assert.Equal(1000u, process.User.Uid);
        Assert.Equal(1000u, process.User.Gid);
        Assert.Equal(18u, process.User.Umask);
        Assert.Equal([5u, 100u], process.User.AdditionalGids);
        Assert.Equal(["sh"], process.Args);
        Assert.Equal("TERM=xterm", process.Env[1]);
        Assert.Equal("/", process.Cwd);
        Assert.Equal([new PosixRlimit("RLIMIT_NOFILE", 1024, 1024)], process.Rlimits);
        Assert.True(process.NoNewPrivileges);
        var capabilities = Assert.IsType<LinuxCapabilities>(process.Capabilities);
        Assert.Equal(["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"], capabilities.Bounding);
        Assert.Equal(capabilities.Bounding, capabilities.Permitted);
        Assert.Empty(capabilities.Inheritable);
        Assert.Equal(["CAP_NET_BIND_SERVICE"], capabilities.Ambient);
        Assert.Equal(new RootSpec("rootfs", Readonly: true), spec.Root);
        Assert.Equal("runc", spec.Hostname);
        Assert.Equal(6, spec.Mounts.Length);
        Assert.Equal(["rbind", "nosuid", "noexec", "nodev", "ro"], spec.Mounts[5].Options);
        Assert.Equal("/sys", spec.Mounts[5].Source);
        Assert.Empty(spec.Mounts[0].Options);
        var linux = Assert.IsType<LinuxSpec>(spec.Linux);
        Assert.Equal([new LinuxIdMapping(0, 1000, 1)], linux.UidMappings);
        Assert.Equal([new LinuxIdMapping(0, 1000, 1)], linux.GidMappings);
        Assert.Equal("1", linux.Sysctl["net.ipv4.ip_forward"]);
        Assert.Equal("/containers/runc", linux.CgroupsPath);
        Assert.Equal(new LinuxMemory { Limit = 512L << 20, Reservation = 256L << 20, Swap = 1L << 30 }, linux.Resources!.Memory);
        Assert.Equal(new LinuxCpu { Shares = 512, Quota = 50_000, Period = 100_000, Cpus = "0-1", Mems = "0" }, linux.Resources.Cpu);
        Assert.Equal(new LinuxPids(64), linux.Resources.Pids);
        Assert.Equal(
            [NamespaceType.Pid, NamespaceType.Ipc, NamespaceType.Uts, NamespaceType.Mount, NamespaceType.User, NamespaceType.Network],
            linux.Namespaces.Select(n => n.Type));
        Assert.Equal(new LinuxNamespace(NamespaceType.Network, "/proc/1234/ns/net"), linux.FindNamespace(NamespaceType.Network));
        Assert.Null(linux.FindNamespace(NamespaceType.Cgroup));
        Assert.Equal(["/proc/acpi", "/proc/kcore", "/sys/firmware"], linux.MaskedPaths);
        Assert.Equal(["/proc/bus", "/proc/sys"], linux.ReadonlyPaths);
        Assert.Equal("demo", spec.Annotations["org.opencontainers.image.title"]);
    }

    [Fact]
    public void Writing_and_reading_back_gives_an_equal_spec()
    {
        var spec = ContainerSpec.FromJson(RuncConfig);

        var again = ContainerSpec.FromJson(spec.ToJson());

        Assert.Equal(spec, again);
        Assert.Equal(spec.GetHashCode(), again.GetHashCode());
        Assert.Equal(spec.ToJson(), again.ToJson());
    }

    [Fact]
    public void Written_json_keeps_the_oci_field_names_and_values_of_the_known_fields()
    {
        var written = JsonNode.Parse(ContainerSpec.FromJson(RuncConfig).ToJson())!.AsObject();
        var original = JsonNode.Parse(RuncConfig)!.AsObject();

        Assert.True(JsonNode.DeepEquals(original, written), written.ToJsonString());
    }

    // Every field the OCI runtime spec defines for Linux, plus the other platforms' sections, each with a value.
    private const string EveryFieldConfig = """
        {
          "ociVersion": "1.3.0",
          "process": {
            "terminal": true,
            "consoleSize": { "height": 24, "width": 80 },
            "user": { "uid": 1, "gid": 2, "umask": 18, "additionalGids": [3], "username": "u" },
            "args": ["sh"],
            "commandLine": "sh",
            "env": ["A=1"],
            "cwd": "/",
            "capabilities": { "bounding": ["CAP_KILL"], "effective": ["CAP_KILL"], "inheritable": ["CAP_KILL"], "permitted": ["CAP_KILL"], "ambient": ["CAP_KILL"] },
            "rlimits": [{ "type": "RLIMIT_NOFILE", "hard": 2, "soft": 1 }],
            "noNewPrivileges": true,
            "apparmorProfile": "p",
            "oomScoreAdj": -5,
            "scheduler": { "policy": "SCHED_DEADLINE", "nice": 1, "priority": 2, "flags": ["SCHED_FLAG_RECLAIM"], "runtime": 3, "deadline": 4, "period": 5 },
            "selinuxLabel": "l",
            "ioPriority": { "class": "IOPRIO_CLASS_BE", "priority": 4 },
            "execCPUAffinity": { "initial": "0", "final": "1" }
          },
          "root": { "path": "/r", "readonly": true },
          "hostname": "h",
          "domainname": "d",
          "mounts": [{ "destination": "/m", "type": "bind", "source": "/s", "options": ["rbind"],
                       "uidMappings": [{ "containerID": 0, "hostID": 1, "size": 2 }], "gidMappings": [{ "containerID": 3, "hostID": 4, "size": 5 }] }],
          "hooks": {
            "prestart": [{ "path": "/a", "args": ["a"], "env": ["E=1"], "timeout": 1 }],
            "createRuntime": [{ "path": "/b" }], "createContainer": [{ "path": "/c" }], "startContainer": [{ "path": "/d" }],
            "poststart": [{ "path": "/e" }], "poststop": [{ "path": "/f" }]
          },
          "annotations": { "k": "v" },
          "linux": {
            "uidMappings": [{ "containerID": 0, "hostID": 1, "size": 2 }],
            "gidMappings": [{ "containerID": 0, "hostID": 1, "size": 2 }],
            "sysctl": { "kernel.msgmax": "1" },
            "resources": {
              "devices": [{ "allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwm" }],
              "memory": { "limit": 1, "reservation": 2, "swap": 3, "kernel": 4, "kernelTCP": 5, "swappiness": 6, "disableOOMKiller": true, "useHierarchy": false, "checkBeforeUpdate": true },
              "cpu": { "shares": 1, "quota": 2, "burst": 3, "period": 4, "realtimeRuntime": 5, "realtimePeriod": 6, "cpus": "0", "mems": "0", "idle": 1 },
              "pids": { "limit": 1 },
              "blockIO": {
                "weight": 10, "leafWeight": 11,
                "weightDevice": [{ "major": 8, "minor": 0, "weight": 12, "leafWeight": 13 }],
                "throttleReadBpsDevice": [{ "major": 8, "minor": 0, "rate": 1 }],
                "throttleWriteBpsDevice": [{ "major": 8, "minor": 0, "rate": 2 }],
                "throttleReadIOPSDevice": [{ "major": 8, "minor": 0, "rate": 3 }],
                "throttleWriteIOPSDevice": [{ "major": 8, "minor": 0, "rate": 4 }]
              },
              "hugepageLimits": [{ "pageSize": "2MB", "limit": 1 }],
              "network": { "classID": 1, "priorities": [{ "name": "eth0", "priority": 2 }] },
              "rdma": { "mlx5_1": { "hcaHandles": 1, "hcaObjects": 2 } },
              "unified": { "memory.high": "1" }
            },
            "cgroupsPath": "/c",
            "namespaces": [{ "type": "mount" }, { "type": "time" }],
            "devices": [{ "path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 438, "uid": 0, "gid": 0 }],
            "netDevices": { "eth1": { "name": "eth0" } },
            "seccomp": {
              "defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1, "architectures": ["SCMP_ARCH_X86_64"], "flags": ["SECCOMP_FILTER_FLAG_LOG"],
              "listenerPath": "/l", "listenerMetadata": "m",
              "syscalls": [{ "names": ["read"], "action": "SCMP_ACT_ALLOW", "errnoRet": 2, "args": [{ "index": 0, "value": 1, "valueTwo": 2, "op": "SCMP_CMP_EQ" }] }]
            },
            "rootfsPropagation": "rprivate",
            "maskedPaths": ["/proc/kcore"],
            "readonlyPaths": ["/proc/sys"],
            "mountLabel": "m",
            "intelRdt": { "closID": "c", "schemata": ["L3:0=f"], "l3CacheSchema": "L3:0=f", "memBwSchema": "MB:0=20", "enableMonitoring": true },
            "memoryPolicy": { "mode": "MPOL_BIND", "nodes": "0", "flags": ["MPOL_F_STATIC_NODES"] },
            "personality": { "domain": "LINUX32", "flags": ["F"] },
            "timeOffsets": { "monotonic": { "secs": 1, "nanosecs": 2 } }
          },
          "solaris": { "milestone": "m" },
          "windows": { "layerFolders": ["C:\\l"] },
          "vm": { "kernel": { "path": "/k" } },
          "zos": { "namespaces": [{ "type": "pid" }] },
          "freebsd": { "jail": { "host": "new" } }
        }
        """;

    [Fact]
    public void Every_oci_field_is_read_and_written_back_with_its_name_and_value()
    {
        var spec = ContainerSpec.FromJson(EveryFieldConfig);

        var written = JsonNode.Parse(spec.ToJson());
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(EveryFieldConfig), written), written!.ToJsonString());
        Assert.Equal(spec, ContainerSpec.FromJson(spec.ToJson()));
        Assert.Equal(spec.GetHashCode(), ContainerSpec.FromJson(spec.ToJson()).GetHashCode());
        Assert.NotEqual(spec, spec with { Linux = spec.Linux! with { Seccomp = spec.Linux.Seccomp! with { ListenerPath = "/other" } } });
        Assert.NotEqual(spec, ContainerSpec.FromJson(EveryFieldConfig.Replace("\"host\": \"new\"", "\"host\": \"inherit\"", StringComparison.Ordinal)));
    }

    [Fact]
    public void The_state_directory_copy_reads_back_as_the_same_spec_with_every_field()
    {
        var spec = ContainerSpec.FromJson(EveryFieldConfig);

        var copy = ContainerSpec.FromJson(Encoding.UTF8.GetString(spec.ToJsonBytes()));

        Assert.Equal(spec, copy);
        Assert.Equal(spec.ToJson(), copy.ToJson());
        Assert.DoesNotContain("\n", Encoding.UTF8.GetString(spec.ToJsonBytes()), StringComparison.Ordinal);
    }

    [Fact]
    public void The_state_directory_copy_is_the_serializers_compact_output_byte_for_byte()
    {
        foreach (var spec in HandWrittenSamples().Append(ContainerSpec.For("/bin/true")).Append(ContainerSpec.For("/bin/sh", "-c", "exit 3").WithHostname("h")))
        {
            var buffer = new System.Buffers.ArrayBufferWriter<byte>();
            using (var writer = new Utf8JsonWriter(buffer, JsonEscaping.WriterOptions))
            {
                JsonSerializer.Serialize(writer, spec, SpecJsonContext.Default.ContainerSpec);
            }

            Assert.Equal(Encoding.UTF8.GetString(buffer.WrittenSpan), Encoding.UTF8.GetString(spec.ToJsonBytes()));
        }
    }

    [Fact]
    public void The_sample_that_holds_the_hand_written_writer_to_the_serializer_sets_every_field_it_writes()
    {
        // A field added to a type the writer handles by hand, but not to the samples, would be left out of config.json
        // with no test failing: the samples must set each of them.
        var specs = HandWrittenSamples();
        var linux = specs.Select(s => s.Linux!).ToList();
        var seccomp = linux.Select(l => l.Seccomp!).ToList();
        AssertEverySet(specs);
        AssertEverySet(linux);
        AssertEverySet(linux.SelectMany(l => l.Namespaces));
        AssertEverySet(seccomp);
        AssertEverySet(seccomp.SelectMany(s => s.Syscalls));
        AssertEverySet(seccomp.SelectMany(s => s.Syscalls).SelectMany(s => s.Args));
    }

    /// <summary>
    /// The sample with every field, and a variant for what the writer handles by hand (SpecJsonContext.Writer.cs):
    /// a joined namespace's path, and a seccomp rule without an errno or a second value.
    /// </summary>
    private static List<ContainerSpec> HandWrittenSamples()
    {
        var every = ContainerSpec.FromJson(EveryFieldConfig);
        var joined = every with
        {
            Linux = every.Linux! with
            {
                Namespaces = [new(NamespaceType.Network, "/proc/1/ns/net"), new(NamespaceType.Pid)],
                Seccomp = every.Linux.Seccomp! with { DefaultErrnoRet = null, Syscalls = [new LinuxSyscall { Names = ["write"], Action = "SCMP_ACT_ALLOW", Args = [new LinuxSeccompArg { Index = 1, Value = 2, Op = "SCMP_CMP_NE" }] }] },
            },
        };
        return [every, joined];
    }

    private static void AssertEverySet<T>(IEnumerable<T> samples)
    {
        var list = samples.ToList();
        Assert.NotEmpty(list);
        foreach (var property in typeof(T).GetProperties(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance))
        {
            if (property.PropertyType.IsValueType && Nullable.GetUnderlyingType(property.PropertyType) is null && !property.PropertyType.IsGenericType)
            {
                continue; // a plain number or enum has no "unset"; 0 is written as any other value
            }

            Assert.True(list.Exists(sample => IsSet(property.GetValue(sample))), $"the sample sets no {typeof(T).Name}.{property.Name}");
        }
    }

    private static bool IsSet(object? value) => value switch
    {
        null => false,
        System.Collections.IEnumerable items and not string => items.Cast<object>().Any(),
        _ => true,
    };

    [Fact]
    public void Fields_the_oci_spec_does_not_define_are_ignored()
    {
        var spec = ContainerSpec.FromJson("""
            { "ociVersion": "1.2.1", "x-vendor": { "a": 1 }, "process": { "args": ["/bin/true"], "cwd": "/", "future": true },
              "linux": { "namespaces": [{ "type": "mount" }], "somethingNew": [1, 2] } }
            """);

        Assert.Empty(spec.Validate());
        Assert.DoesNotContain("x-vendor", spec.ToJson(), StringComparison.Ordinal);
    }

    [Fact]
    public void Null_fields_and_empty_lists_are_left_out_of_the_json()
    {
        string json = new ContainerSpec { Process = new ProcessSpec { Args = ["/bin/true"] } }.ToJson();

        var root = JsonNode.Parse(json)!.AsObject();
        Assert.Equal(["ociVersion", "process"], root.Select(p => p.Key));
        var process = root["process"]!.AsObject();
        Assert.DoesNotContain("env", process.Select(p => p.Key));
        Assert.DoesNotContain("consoleSize", process.Select(p => p.Key));
        Assert.DoesNotContain("additionalGids", process["user"]!.AsObject().Select(p => p.Key));
    }

    [Fact]
    public void Every_namespace_type_is_written_with_its_oci_name()
    {
        var linux = new LinuxSpec { Namespaces = [.. Enum.GetValues<NamespaceType>().Select(t => new LinuxNamespace(t))] };
        string json = new ContainerSpec { Linux = linux }.ToJson();

        var names = JsonNode.Parse(json)!["linux"]!["namespaces"]!.AsArray().Select(n => (string)n!["type"]!);

        Assert.Equal(["pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time"], names);
        Assert.Equal(linux, ContainerSpec.FromJson(json).Linux);
    }

    [Fact]
    public void An_unknown_namespace_type_is_an_error_at_its_json_path()
    {
        const string json = """{ "linux": { "namespaces": [ { "type": "pid" }, { "type": "netwrk" } ] } }""";

        var e = Assert.Throws<InvalidSpecException>(() => ContainerSpec.FromJson(json));

        var error = Assert.Single(e.Errors);
        Assert.Equal("linux.namespaces[1].type", error.JsonPath);
        Assert.Contains("unknown namespace type 'netwrk'", error.Message, StringComparison.Ordinal);
        Assert.Contains("network", error.Message, StringComparison.Ordinal);
        Assert.Contains("linux.namespaces[1].type", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{ "process": { "args": "sh" } }""", "process.args")]
    [InlineData("""{ "process": { "user": { "uid": -1 } } }""", "process.user.uid")]
    [InlineData("""{ "process": { "cwd": null } }""", "process.cwd")]
    [InlineData("""{ "root": { "path": 5 } }""", "root.path")]
    [InlineData("""{ "linux": { "uidMappings": [ { "containerID": 0, "size": 1 } ] } }""", "linux.uidMappings[0]")]
    [InlineData("""{ "linux": { "namespaces": [ { "type": 3 } ] } }""", "linux.namespaces[0].type")]
    [InlineData("""{ "mounts": [ { "destination": "/x" """, "mounts[0]")]
    [InlineData("null", "$")]
    public void Badly_typed_json_is_an_error_naming_the_field(string json, string path)
    {
        var e = Assert.Throws<InvalidSpecException>(() => ContainerSpec.FromJson(json));

        Assert.Equal(path, Assert.Single(e.Errors).JsonPath);
    }

    [Fact]
    public void A_stream_reads_like_a_string()
    {
        using var stream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(RuncConfig));

        Assert.Equal(ContainerSpec.FromJson(RuncConfig), ContainerSpec.FromJson(stream));
    }

    [Fact]
    public async Task Save_then_load_round_trips_through_a_file_and_leaves_no_temporary_file()
    {
        string dir = Directory.CreateTempSubdirectory("spec-test-").FullName;
        try
        {
            string path = Path.Combine(dir, "config.json");
            await File.WriteAllTextAsync(path, "old content", TestContext.Current.CancellationToken);
            var spec = ContainerSpec.For("/bin/echo", "hi").WithHostname("box");

            await spec.SaveAsync(path, TestContext.Current.CancellationToken);
            var loaded = await ContainerSpec.LoadAsync(path, TestContext.Current.CancellationToken);

            Assert.Equal(spec, loaded);
            Assert.Equal(["config.json"], Directory.GetFiles(dir).Select(Path.GetFileName));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Loading_an_invalid_file_names_the_field()
    {
        string dir = Directory.CreateTempSubdirectory("spec-test-").FullName;
        try
        {
            string path = Path.Combine(dir, "config.json");
            await File.WriteAllTextAsync(path, """{ "hostname": 7 }""", TestContext.Current.CancellationToken);

            var e = await Assert.ThrowsAsync<InvalidSpecException>(() => ContainerSpec.LoadAsync(path, TestContext.Current.CancellationToken));

            Assert.Equal("hostname", Assert.Single(e.Errors).JsonPath);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Reading_or_writing_a_spec_where_the_file_system_refuses_is_a_ContainersIOException_naming_the_file()
    {
        string dir = Directory.CreateTempSubdirectory("spec-test-").FullName;
        try
        {
            string missing = Path.Combine(dir, "absent", "config.json");

            var read = await Assert.ThrowsAsync<ContainersIOException>(() => ContainerSpec.LoadAsync(missing, TestContext.Current.CancellationToken));
            var write = await Assert.ThrowsAsync<ContainersIOException>(() => ContainerSpec.For("/bin/true").SaveAsync(missing, TestContext.Current.CancellationToken));

            Assert.Equal(missing, read.Path);
            Assert.Contains(missing, read.Message, StringComparison.Ordinal);
            Assert.IsAssignableFrom<IOException>(read.InnerException);
            Assert.Equal(missing, write.Path);
            Assert.Empty(Directory.EnumerateFileSystemEntries(dir)); // nothing was created on the way
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Specs_with_equal_content_are_equal_even_when_built_separately()
    {
        var a = ContainerSpec.For("/bin/sh").WithEnv("A", "1").WithUidMapping(0, 1000, 1);
        var b = ContainerSpec.For("/bin/sh").WithEnv("A", "1").WithUidMapping(0, 1000, 1);

        Assert.Equal(a, b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.NotEqual(a, b.WithEnv("A", "2"));
        Assert.Equal(new ProcessSpec { Args = default }, new ProcessSpec { Args = [] });
        Assert.Equal(ImmutableArray<string>.Empty, new MountSpec { Options = default }.Options);
    }

    [Fact]
    public void Missing_fields_read_as_empty_so_validation_reports_the_required_ones()
    {
        var spec = ContainerSpec.FromJson("""{ "process": { "args": ["x"] }, "mounts": [ {} ] }""");

        Assert.Equal(new UserSpec(), spec.Process!.User);
        Assert.Empty(spec.Process.Env);
        Assert.Empty(spec.Mounts[0].Options);
        Assert.Equal(
            ["ociVersion", "process.cwd", "mounts[0].destination", "mounts[0].type", "mounts"],
            spec.Validate().Select(e => e.JsonPath));
    }

    [Fact]
    public void Malformed_json_is_an_error_with_its_line()
    {
        var e = Assert.Throws<InvalidSpecException>(() => ContainerSpec.FromJson("{\n  \"hostname\": \"a\",\n  oops\n}"));

        var error = Assert.Single(e.Errors);
        Assert.Contains("(line 3,", error.Message, StringComparison.Ordinal);
        Assert.Equal($"invalid container spec (1 problem): {error}", e.Message);
        Assert.Equal($"{error.JsonPath}: {error.Message}", error.ToString());
    }

    [Fact]
    public void ToString_is_the_spec_as_one_line_json()
    {
        var spec = ContainerSpec.For("/bin/echo", "hi");

        string text = spec.ToString();

        Assert.DoesNotContain('\n', text);
        Assert.Contains("\"args\":[\"/bin/echo\",\"hi\"]", text, StringComparison.Ordinal);
        Assert.Equal(spec, ContainerSpec.FromJson(text));
    }
}
