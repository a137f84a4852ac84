using System.Collections;
using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Containers.Images.Model;
using Containers.Runtime;
using Containers.Spec;

namespace Containers.Tests.Runtime;

/// <summary>
/// <c>state.json</c> is read and written by hand (<see cref="ContainerStateJson"/>); these tests hold it to what
/// System.Text.Json's source generator writes and reads for the same types with the same options (how states were
/// written before, and the reference should a property be added): every property of the state and of the types in it
/// must be set in the sample below, so a property added later and not read or written fails here.
/// </summary>
public sealed class ContainerStateJsonTests
{
    private static readonly DateTimeOffset Created = new(2026, 11, 30, 6, 1, 2, TimeSpan.FromHours(2));

    /// <summary>Every property set to something other than its default, strings that need escaping included.</summary>
    private static readonly ContainerState Full = new()
    {
        OciVersion = "1.0.2",
        Id = "full-1",
        Status = ContainerStatus.Paused,
        Pid = 4242,
        PidStartTime = 1234567890123,
        Bundle = "/run/containers-net/full-1",
        Created = Created.AddTicks(1234567),
        OwnerPid = 77,
        OwnerStartTime = 98765,
        OwnerPidNamespace = 4026531836,
        Command = ["sh", "-c", "echo \"<é>\" & exit 3 'x'"],
        ExitCode = 3,
        Init = true,
        Signal = 9,
        LogPath = "/run/containers-net/full-1/container.log",
        LogOptions = new ContainerLogOptions { MaxSize = 4096, MaxFiles = 7 },
        Cgroup = new Dictionary<string, string> { ["memory"] = "/sys/fs/cgroup/memory/x", ["pids"] = "/sys/fs/cgroup/pids/x" },
        Image = new ContainerImage
        {
            Reference = "busybox:1.36",
            Digest = "sha256:841969534cf20011e16a3cfcd4a316875036e878e287c4cca22d1f85b2058613",
            ExposedPorts = ["80/tcp", "53/udp"],
            Labels = new Dictionary<string, string> { ["a"] = "b", ["c+d"] = "e<f>" },
            Volumes = ["/data"],
            Config = new ContainerConfig
            {
                User = "app:app",
                ExposedPorts = ["80/tcp"],
                Env = ["PATH=/bin", "GREETING=hi"],
                Entrypoint = ["/entry"],
                Cmd = ["serve", "--port=80"],
                Volumes = ["/data", "/cache"],
                WorkingDir = "/srv",
                Labels = new Dictionary<string, string> { ["l"] = "v" },
                StopSignal = "SIGQUIT",
            },
        },
        Volumes = ["named", "anon-123"],
        StopSignal = 3,
        ContainerDirectory = "/var/lib/containers-net/containers/full-1-ab",
        LowerDirectories = ["/var/lib/containers-net/snapshots/2", "/var/lib/containers-net/snapshots/1"],
        LeaseFile = "/var/lib/containers-net/leases/full-1-ab.json",
        UidMappings = [new LinuxIdMapping(65536, 1000, 1), new LinuxIdMapping(0, 100000, 65536)],
        GidMappings = [new LinuxIdMapping(1, 200000, 65535)],
    };

    private static readonly ContainerState Minimal = new()
    {
        Id = "min",
        Status = ContainerStatus.Creating,
        Bundle = "/b",
        Created = Created,
        OwnerPid = 1,
        OwnerStartTime = 1,
    };

    /// <summary>What each type's properties are when nothing sets them: the sample must differ from these everywhere.</summary>
    private static readonly Dictionary<Type, object> Defaults = new()
    {
        [typeof(ContainerState)] = Minimal,
        [typeof(ContainerImage)] = new ContainerImage { Reference = "r", Digest = "d" },
        [typeof(ContainerConfig)] = new ContainerConfig(),
        [typeof(ContainerLogOptions)] = new ContainerLogOptions(),
        [typeof(LinuxIdMapping)] = new LinuxIdMapping(0, 0, 0),
    };

    [Fact]
    public void The_sample_sets_every_property_of_the_state_and_of_the_types_in_it()
    {
        AssertEverySet(Full, "state");
    }

    [Fact]
    public void A_state_is_written_byte_for_byte_as_the_generated_serializer_writes_it()
    {
        Assert.Equal(Generated(Full), Encoding.UTF8.GetString(ContainerStateJson.Write(Full)));
        Assert.Equal(Generated(Minimal), Encoding.UTF8.GetString(ContainerStateJson.Write(Minimal)));
    }

    [Fact]
    public void A_state_the_generated_serializer_wrote_reads_back_with_every_property()
    {
        foreach (var state in new[] { Full, Minimal })
        {
            var json = Generated(state);
            var read = ContainerStateJson.Read(Encoding.UTF8.GetBytes(json));

            Assert.Equal(json, Generated(read));
        }
    }

    [Fact]
    public void A_property_that_is_not_there_reads_as_its_default()
    {
        var json = """{"id":"x","status":"stopped","bundle":"/b","created":"2026-11-30T06:01:02+02:00","ownerPid":5,"ownerStartTime":6,"image":{"reference":"r","digest":"d"}}""";

        var read = ContainerStateJson.Read(Encoding.UTF8.GetBytes(json));

        var expected = new ContainerState
        {
            Id = "x", Status = ContainerStatus.Stopped, Bundle = "/b", Created = Created, OwnerPid = 5, OwnerStartTime = 6,
            Image = new ContainerImage { Reference = "r", Digest = "d" },
        };
        Assert.Equal(Generated(expected), Generated(read));
        Assert.Equal("1.2.0", read.OciVersion);
        Assert.Empty(read.Command);
        Assert.Empty(read.Image!.Labels);
    }

    [Fact]
    public void Unknown_properties_and_nulls_are_skipped_as_the_generated_deserializer_skips_them()
    {
        var json = """{"future":{"a":[1,{"b":null}]},"ociVersion":"1.2.0","id":"x","status":"running","bundle":"/b","created":"2026-11-30T06:01:02Z","ownerPid":5,"ownerStartTime":6,"command":[],"logPath":null,"image":{"reference":"r","digest":"d","exposedPorts":[],"labels":{},"volumes":[],"config":{"User":null,"Later":[]}},"gidMappings":[{"containerID":1,"hostID":2,"size":3,"extra":true}]}""";

        var expected = JsonSerializer.Deserialize(json, GeneratedStateJson.Default.ContainerState)!;
        var read = ContainerStateJson.Read(Encoding.UTF8.GetBytes(json));

        Assert.Equal(Generated(expected), Generated(read));
        Assert.Equal(new LinuxIdMapping(1, 2, 3), Assert.Single(read.GidMappings!));
    }

    [Theory]
    [InlineData("")]
    [InlineData("{")]
    [InlineData("[]")]
    [InlineData("""{"id":"x","status":"stopped","bundle":"/b","created":"2026-11-30T06:01:02Z","ownerPid":5}""")]
    [InlineData("""{"id":"x","status":"gone","bundle":"/b","created":"2026-11-30T06:01:02Z","ownerPid":5,"ownerStartTime":6}""")]
    [InlineData("""{"id":"x","status":"stopped","bundle":"/b","created":"2026-11-30T06:01:02Z","ownerPid":"5","ownerStartTime":6}""")]
    [InlineData("""{"id":"x","status":"stopped","bundle":"/b","created":"yesterday","ownerPid":5,"ownerStartTime":6}""")]
    [InlineData("""{"id":"x","status":"stopped","bundle":"/b","created":"2026-11-30T06:01:02Z","ownerPid":5,"ownerStartTime":-6}""")]
    [InlineData("""{"id":"x","status":"stopped","bundle":"/b","created":"2026-11-30T06:01:02Z","ownerPid":5,"ownerStartTime":6,"image":{"digest":"d"}}""")]
    [InlineData("""{"id":"x","status":"stopped","bundle":"/b","created":"2026-11-30T06:01:02Z","ownerPid":5,"ownerStartTime":6,"command":"sh"}""")]
    [InlineData("""{"id":"x","status":"stopped","bundle":"/b","created":"2026-11-30T06:01:02Z","ownerPid":5,"ownerStartTime":6} {}""")]
    public void What_is_not_a_state_is_refused_with_a_json_error_as_the_generated_deserializer_refuses_it(string json)
    {
        Assert.ThrowsAny<JsonException>(() => JsonSerializer.Deserialize(json, GeneratedStateJson.Default.ContainerState));
        Assert.ThrowsAny<JsonException>(() => ContainerStateJson.Read(Encoding.UTF8.GetBytes(json)));
    }

    // With the escaping state.json is written with (JsonEscaping): only what JSON requires.
    private static readonly GeneratedStateJson Escaped = new(new JsonSerializerOptions(GeneratedStateJson.Default.Options) { Encoder = JsonEscaping.Instance });

    private static string Generated(ContainerState state) =>
        JsonSerializer.Serialize(state, Escaped.ContainerState);

    private static void AssertEverySet(object sample, string path)
    {
        var type = sample.GetType();
        Assert.True(Defaults.TryGetValue(type, out var defaults), $"{path}: add a default {type.Name} to {nameof(Defaults)}, and set its properties in the sample");
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            var where = $"{path}.{property.Name}";
            var value = property.GetValue(sample);
            Assert.True(value is not null, $"{where} is not set in the sample");
            Assert.False(Equals(value, property.GetValue(defaults)), $"{where} has its default value in the sample: set it to something else");
            if (value is IEnumerable items and not string)
            {
                var list = items.Cast<object>().ToList();
                Assert.True(list.Count > 0, $"{where} is empty in the sample");
                if (Defaults.ContainsKey(list[0].GetType()))
                {
                    AssertEverySet(list[0], where + "[0]");
                }
            }
            else if (property.PropertyType.Namespace?.StartsWith("Containers", StringComparison.Ordinal) == true && !property.PropertyType.IsEnum)
            {
                AssertEverySet(value!, where);
            }
        }
    }
}

/// <summary>The generated serializer with the options <c>state.json</c> was written with before it had its own reader and writer.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    Converters = [typeof(StatusNames)])]
[JsonSerializable(typeof(ContainerState))]
internal sealed partial class GeneratedStateJson : JsonSerializerContext
{
    internal sealed class StatusNames() : JsonStringEnumConverter<ContainerStatus>(JsonNamingPolicy.CamelCase);
}
