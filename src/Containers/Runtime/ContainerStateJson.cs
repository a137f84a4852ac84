using System.Buffers;
using System.Text.Json;
using Containers.Images.Model;
using Containers.Spec;

namespace Containers.Runtime;

/// <summary>
/// Reads and writes <c>state.json</c> (<see cref="ContainerState"/>) with <see cref="Utf8JsonReader"/> and
/// <see cref="Utf8JsonWriter"/> directly. Every command of the command line reads the states in the directory (the
/// open-time sweep, <c>ps</c>), and System.Text.Json's serializer builds its metadata for the state's types on first
/// use, which cost a short-lived process more than the rest of its JSON work. The format is what the serializer
/// writes with camel-case names and nulls left out (older states were written that way; a test holds both to it):
/// properties in declaration order, statuses by their OCI names, the image config's sets as objects of empty objects.
/// A reader skips properties it does not know, and throws <see cref="JsonException"/> on anything else it cannot read.
/// </summary>
internal static class ContainerStateJson
{
    public static byte[] Write(ContainerState state)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(buffer, JsonEscaping.WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("ociVersion"u8, state.OciVersion);
            writer.WriteString("id"u8, state.Id);
            writer.WriteString("status"u8, StatusName(state.Status));
            writer.WriteNumber("pid"u8, state.Pid);
            writer.WriteNumber("pidStartTime"u8, state.PidStartTime);
            writer.WriteString("bundle"u8, state.Bundle);
            writer.WriteString("created"u8, state.Created);
            writer.WriteNumber("ownerPid"u8, state.OwnerPid);
            writer.WriteNumber("ownerStartTime"u8, state.OwnerStartTime);
            writer.WriteNumber("ownerPidNamespace"u8, state.OwnerPidNamespace);
            WriteList(writer, "command"u8, state.Command);
            WriteNumber(writer, "exitCode"u8, state.ExitCode);
            writer.WriteBoolean("init"u8, state.Init);
            WriteNumber(writer, "signal"u8, state.Signal);
            WriteString(writer, "logPath"u8, state.LogPath);
            if (state.LogOptions is { } log)
            {
                writer.WriteStartObject("logOptions"u8);
                writer.WriteNumber("maxSize"u8, log.MaxSize);
                writer.WriteNumber("maxFiles"u8, log.MaxFiles);
                writer.WriteEndObject();
            }

            WriteMap(writer, "cgroup"u8, state.Cgroup);
            if (state.Image is { } image)
            {
                WriteImage(writer, image);
            }

            WriteList(writer, "volumes"u8, state.Volumes);
            WriteNumber(writer, "stopSignal"u8, state.StopSignal);
            WriteString(writer, "containerDirectory"u8, state.ContainerDirectory);
            WriteList(writer, "lowerDirectories"u8, state.LowerDirectories);
            WriteString(writer, "leaseFile"u8, state.LeaseFile);
            WriteMappings(writer, "uidMappings"u8, state.UidMappings);
            WriteMappings(writer, "gidMappings"u8, state.GidMappings);
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <exception cref="JsonException">The text is not a state: not JSON, a value of the wrong type, or a required property missing.</exception>
    public static ContainerState Read(ReadOnlySpan<byte> utf8)
    {
        var reader = new Utf8JsonReader(utf8);
        try
        {
            Next(ref reader);
            var state = ReadState(ref reader);
            if (reader.Read())
            {
                throw new JsonException("state.json has more after its object");
            }

            return state;
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
            // Utf8JsonReader's typed getters throw these for a token of another type or a number out of range.
            throw new JsonException($"state.json has a value of the wrong type near byte {reader.TokenStartIndex}: {e.Message}", e);
        }
    }

    private static ContainerState ReadState(ref Utf8JsonReader reader)
    {
        Expect(ref reader, JsonTokenType.StartObject);
        string ociVersion = "1.2.0", id = "", bundle = "";
        IReadOnlyList<string> command = [];
        ContainerStatus status = default;
        DateTimeOffset created = default;
        int pid = 0, ownerPid = 0;
        ulong pidStartTime = 0, ownerStartTime = 0, ownerPidNamespace = 0;
        int? exitCode = null, signal = null, stopSignal = null;
        var init = false;
        string? logPath = null, containerDirectory = null, leaseFile = null;
        ContainerLogOptions? logOptions = null;
        IReadOnlyDictionary<string, string>? cgroup = null;
        ContainerImage? image = null;
        IReadOnlyList<string>? volumes = null, lowerDirectories = null;
        IReadOnlyList<LinuxIdMapping>? uidMappings = null, gidMappings = null;
        var required = Required.None;
        while (NextProperty(ref reader) is { } name)
        {
            switch (name)
            {
                case "ociVersion": ociVersion = String(ref reader); break;
                case "id": id = String(ref reader); required |= Required.Id; break;
                case "status": status = Status(ref reader); required |= Required.Status; break;
                case "pid": pid = reader.GetInt32(); break;
                case "pidStartTime": pidStartTime = reader.GetUInt64(); break;
                case "bundle": bundle = String(ref reader); required |= Required.Bundle; break;
                case "created": created = reader.GetDateTimeOffset(); required |= Required.Created; break;
                case "ownerPid": ownerPid = reader.GetInt32(); required |= Required.OwnerPid; break;
                case "ownerStartTime": ownerStartTime = reader.GetUInt64(); required |= Required.OwnerStartTime; break;
                case "ownerPidNamespace": ownerPidNamespace = reader.GetUInt64(); break;
                case "command": command = List(ref reader) ?? command; break;
                case "exitCode": exitCode = NullableInt(ref reader); break;
                case "init": init = reader.GetBoolean(); break;
                case "signal": signal = NullableInt(ref reader); break;
                case "logPath": logPath = NullableString(ref reader); break;
                case "logOptions": logOptions = LogOptions(ref reader); break;
                case "cgroup": cgroup = Map(ref reader); break;
                case "image": image = Image(ref reader); break;
                case "volumes": volumes = List(ref reader); break;
                case "stopSignal": stopSignal = NullableInt(ref reader); break;
                case "containerDirectory": containerDirectory = NullableString(ref reader); break;
                case "lowerDirectories": lowerDirectories = List(ref reader); break;
                case "leaseFile": leaseFile = NullableString(ref reader); break;
                case "uidMappings": uidMappings = Mappings(ref reader); break;
                case "gidMappings": gidMappings = Mappings(ref reader); break;
                default: reader.Skip(); break;
            }
        }

        if (required != Required.All)
        {
            throw new JsonException($"state.json lacks a required property ({Required.All & ~required})");
        }

        return new ContainerState
        {
            OciVersion = ociVersion,
            Id = id,
            Status = status,
            Pid = pid,
            PidStartTime = pidStartTime,
            Bundle = bundle,
            Created = created,
            OwnerPid = ownerPid,
            OwnerStartTime = ownerStartTime,
            OwnerPidNamespace = ownerPidNamespace,
            Command = command,
            ExitCode = exitCode,
            Init = init,
            Signal = signal,
            LogPath = logPath,
            LogOptions = logOptions,
            Cgroup = cgroup,
            Image = image,
            Volumes = volumes,
            StopSignal = stopSignal,
            ContainerDirectory = containerDirectory,
            LowerDirectories = lowerDirectories,
            LeaseFile = leaseFile,
            UidMappings = uidMappings,
            GidMappings = gidMappings,
        };
    }

    private static ContainerImage? Image(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }

        Expect(ref reader, JsonTokenType.StartObject);
        string? reference = null, digest = null;
        IReadOnlyList<string> exposedPorts = [], volumes = [];
        IReadOnlyDictionary<string, string> labels = new Dictionary<string, string>();
        ContainerConfig? config = null;
        while (NextProperty(ref reader) is { } name)
        {
            switch (name)
            {
                case "reference": reference = String(ref reader); break;
                case "digest": digest = String(ref reader); break;
                case "exposedPorts": exposedPorts = List(ref reader) ?? exposedPorts; break;
                case "labels": labels = Map(ref reader) ?? labels; break;
                case "volumes": volumes = List(ref reader) ?? volumes; break;
                case "config": config = Config(ref reader); break;
                default: reader.Skip(); break;
            }
        }

        return new ContainerImage
        {
            Reference = reference ?? throw new JsonException("state.json's image lacks its reference"),
            Digest = digest ?? throw new JsonException("state.json's image lacks its digest"),
            ExposedPorts = exposedPorts,
            Labels = labels,
            Volumes = volumes,
            Config = config,
        };
    }

    private static ContainerConfig? Config(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }

        Expect(ref reader, JsonTokenType.StartObject);
        var config = new ContainerConfig();
        while (NextProperty(ref reader) is { } name)
        {
            config = name switch
            {
                "User" => config with { User = NullableString(ref reader) },
                "ExposedPorts" => config with { ExposedPorts = KeySet(ref reader) },
                "Env" => config with { Env = List(ref reader) },
                "Entrypoint" => config with { Entrypoint = List(ref reader) },
                "Cmd" => config with { Cmd = List(ref reader) },
                "Volumes" => config with { Volumes = KeySet(ref reader) },
                "WorkingDir" => config with { WorkingDir = NullableString(ref reader) },
                "Labels" => config with { Labels = Map(ref reader) },
                "StopSignal" => config with { StopSignal = NullableString(ref reader) },
                _ => Skipped(ref reader, config),
            };
        }

        return config;
    }

    private static ContainerLogOptions? LogOptions(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }

        Expect(ref reader, JsonTokenType.StartObject);
        var options = new ContainerLogOptions();
        while (NextProperty(ref reader) is { } name)
        {
            options = name switch
            {
                "maxSize" => options with { MaxSize = reader.GetInt64() },
                "maxFiles" => options with { MaxFiles = reader.GetInt32() },
                _ => Skipped(ref reader, options),
            };
        }

        return options;
    }

    private static List<LinuxIdMapping>? Mappings(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }

        Expect(ref reader, JsonTokenType.StartArray);
        var mappings = new List<LinuxIdMapping>();
        while (Next(ref reader) != JsonTokenType.EndArray)
        {
            Expect(ref reader, JsonTokenType.StartObject);
            uint containerId = 0, hostId = 0, size = 0;
            while (NextProperty(ref reader) is { } name)
            {
                switch (name)
                {
                    case "containerID": containerId = reader.GetUInt32(); break;
                    case "hostID": hostId = reader.GetUInt32(); break;
                    case "size": size = reader.GetUInt32(); break;
                    default: reader.Skip(); break;
                }
            }

            mappings.Add(new LinuxIdMapping(containerId, hostId, size));
        }

        return mappings;
    }

    private static List<string>? List(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }

        Expect(ref reader, JsonTokenType.StartArray);
        var list = new List<string>();
        while (Next(ref reader) != JsonTokenType.EndArray)
        {
            list.Add(String(ref reader));
        }

        return list;
    }

    private static Dictionary<string, string>? Map(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }

        Expect(ref reader, JsonTokenType.StartObject);
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        while (NextProperty(ref reader) is { } key)
        {
            map[key] = String(ref reader);
        }

        return map;
    }

    /// <summary>An image config's set: an object whose keys are the members (see <see cref="KeySetJsonConverter"/>).</summary>
    private static List<string>? KeySet(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }

        Expect(ref reader, JsonTokenType.StartObject);
        var keys = new List<string>();
        while (NextProperty(ref reader) is { } key)
        {
            keys.Add(key);
            reader.Skip();
        }

        return keys;
    }

    private static ContainerStatus Status(ref Utf8JsonReader reader) => String(ref reader) switch
    {
        "creating" => ContainerStatus.Creating,
        "created" => ContainerStatus.Created,
        "running" => ContainerStatus.Running,
        "stopped" => ContainerStatus.Stopped,
        "paused" => ContainerStatus.Paused,
        var other => throw new JsonException($"state.json has an unknown status '{other}'"),
    };

    private static string StatusName(ContainerStatus status) => status switch
    {
        ContainerStatus.Creating => "creating",
        ContainerStatus.Created => "created",
        ContainerStatus.Running => "running",
        ContainerStatus.Stopped => "stopped",
        ContainerStatus.Paused => "paused",
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, "not a container status"),
    };

    private static string String(ref Utf8JsonReader reader)
    {
        Expect(ref reader, JsonTokenType.String);
        return reader.GetString()!;
    }

    private static string? NullableString(ref Utf8JsonReader reader) =>
        reader.TokenType == JsonTokenType.Null ? null : String(ref reader);

    private static int? NullableInt(ref Utf8JsonReader reader) =>
        reader.TokenType == JsonTokenType.Null ? null : reader.GetInt32();

    private static T Skipped<T>(ref Utf8JsonReader reader, T value)
    {
        reader.Skip();
        return value;
    }

    /// <summary>Moves to the next property's value and returns its name, or returns null at the end of the object.</summary>
    private static string? NextProperty(ref Utf8JsonReader reader)
    {
        if (Next(ref reader) == JsonTokenType.EndObject)
        {
            return null;
        }

        var name = reader.GetString()!;
        Next(ref reader);
        return name;
    }

    private static JsonTokenType Next(ref Utf8JsonReader reader) =>
        reader.Read() ? reader.TokenType : throw new JsonException("state.json ends in the middle");

    private static void Expect(ref Utf8JsonReader reader, JsonTokenType type)
    {
        if (reader.TokenType != type)
        {
            throw new JsonException($"state.json has {reader.TokenType} where {type} belongs, near byte {reader.TokenStartIndex}");
        }
    }

    private static void WriteString(Utf8JsonWriter writer, ReadOnlySpan<byte> name, string? value)
    {
        if (value is not null)
        {
            writer.WriteString(name, value);
        }
    }

    private static void WriteNumber(Utf8JsonWriter writer, ReadOnlySpan<byte> name, int? value)
    {
        if (value is { } number)
        {
            writer.WriteNumber(name, number);
        }
    }

    private static void WriteList(Utf8JsonWriter writer, ReadOnlySpan<byte> name, IReadOnlyList<string>? values)
    {
        if (values is null)
        {
            return;
        }

        writer.WriteStartArray(name);
        foreach (var value in values)
        {
            writer.WriteStringValue(value);
        }

        writer.WriteEndArray();
    }

    private static void WriteMap(Utf8JsonWriter writer, ReadOnlySpan<byte> name, IReadOnlyDictionary<string, string>? map)
    {
        if (map is null)
        {
            return;
        }

        writer.WriteStartObject(name);
        foreach (var (key, value) in map)
        {
            writer.WriteString(key, value);
        }

        writer.WriteEndObject();
    }

    private static void WriteKeySet(Utf8JsonWriter writer, ReadOnlySpan<byte> name, IReadOnlyList<string>? keys)
    {
        if (keys is null)
        {
            return;
        }

        writer.WriteStartObject(name);
        foreach (var key in keys)
        {
            writer.WriteStartObject(key);
            writer.WriteEndObject();
        }

        writer.WriteEndObject();
    }

    private static void WriteImage(Utf8JsonWriter writer, ContainerImage image)
    {
        writer.WriteStartObject("image"u8);
        writer.WriteString("reference"u8, image.Reference);
        writer.WriteString("digest"u8, image.Digest);
        WriteList(writer, "exposedPorts"u8, image.ExposedPorts);
        WriteMap(writer, "labels"u8, image.Labels);
        WriteList(writer, "volumes"u8, image.Volumes);
        if (image.Config is { } config)
        {
            writer.WriteStartObject("config"u8);
            WriteString(writer, "User"u8, config.User);
            WriteKeySet(writer, "ExposedPorts"u8, config.ExposedPorts);
            WriteList(writer, "Env"u8, config.Env);
            WriteList(writer, "Entrypoint"u8, config.Entrypoint);
            WriteList(writer, "Cmd"u8, config.Cmd);
            WriteKeySet(writer, "Volumes"u8, config.Volumes);
            WriteString(writer, "WorkingDir"u8, config.WorkingDir);
            WriteMap(writer, "Labels"u8, config.Labels);
            WriteString(writer, "StopSignal"u8, config.StopSignal);
            writer.WriteEndObject();
        }

        writer.WriteEndObject();
    }

    private static void WriteMappings(Utf8JsonWriter writer, ReadOnlySpan<byte> name, IReadOnlyList<LinuxIdMapping>? mappings)
    {
        if (mappings is null)
        {
            return;
        }

        writer.WriteStartArray(name);
        foreach (var mapping in mappings)
        {
            writer.WriteStartObject();
            writer.WriteNumber("containerID"u8, mapping.ContainerId);
            writer.WriteNumber("hostID"u8, mapping.HostId);
            writer.WriteNumber("size"u8, mapping.Size);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
    }

    [Flags]
    private enum Required
    {
        None = 0,
        Id = 1,
        Status = 2,
        Bundle = 4,
        Created = 8,
        OwnerPid = 16,
        OwnerStartTime = 32,
        All = Id | Status | Bundle | Created | OwnerPid | OwnerStartTime,
    }
}
