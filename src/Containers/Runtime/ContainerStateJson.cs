using System.Buffers;
using System.Text.Json;

namespace Containers.Runtime;

/// <summary>
/// <c>state.json</c> written and read by hand with <see cref="Utf8JsonWriter"/> and <see cref="Utf8JsonReader"/>:
/// every command line run reads and writes it, and building System.Text.Json's metadata for the record (even the
/// source-generated one, whose polymorphism lookup uses reflection) cost a native command more CPU than the rest
/// of its state handling. The format is what the generated serializer wrote: camelCase names, nulls left out,
/// the status as the OCI name; unknown names are skipped so an older reader accepts a newer file.
/// </summary>
internal static class ContainerStateJson
{
    public static void Write(Stream stream, ContainerState state)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("ociVersion"u8, state.OciVersion);
            json.WriteString("id"u8, state.Id);
            json.WriteString("status"u8, state.Status.ToOciString());
            json.WriteNumber("pid"u8, state.Pid);
            json.WriteNumber("pidStartTime"u8, state.PidStartTime);
            json.WriteString("bundle"u8, state.Bundle);
            json.WriteString("created"u8, state.Created);
            json.WriteNumber("ownerPid"u8, state.OwnerPid);
            json.WriteNumber("ownerStartTime"u8, state.OwnerStartTime);
            json.WriteStartArray("command"u8);
            foreach (var word in state.Command)
            {
                json.WriteStringValue(word);
            }

            json.WriteEndArray();
            if (state.ExitCode is { } exitCode)
            {
                json.WriteNumber("exitCode"u8, exitCode);
            }

            json.WriteBoolean("init"u8, state.Init);
            if (state.Signal is { } signal)
            {
                json.WriteNumber("signal"u8, signal);
            }

            if (state.LogPath is { } logPath)
            {
                json.WriteString("logPath"u8, logPath);
            }

            json.WriteEndObject();
        }

        stream.Write(buffer.WrittenSpan);
    }

    /// <summary>Reads a state; a file that is not a whole state (missing required fields, wrong types) throws <see cref="JsonException"/>.</summary>
    public static ContainerState Read(ReadOnlySpan<byte> utf8)
    {
        try
        {
            return ReadObject(utf8);
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
            // A value of the wrong JSON type (GetInt32 on a string, a malformed date).
            throw new JsonException("state.json: " + e.Message, e);
        }
    }

    private static ContainerState ReadObject(ReadOnlySpan<byte> utf8)
    {
        var reader = new Utf8JsonReader(utf8);
        Expect(ref reader, JsonTokenType.StartObject);
        string ociVersion = "1.2.0";
        string? id = null, bundle = null, logPath = null;
        ContainerStatus? status = null;
        DateTimeOffset? created = null;
        int pid = 0;
        int? ownerPid = null, exitCode = null, signal = null;
        ulong pidStartTime = 0;
        ulong? ownerStartTime = null;
        List<string> command = [];
        bool init = false;
        while (true)
        {
            Next(ref reader);
            if (reader.TokenType == JsonTokenType.EndObject)
            {
                break;
            }

            if (reader.TokenType != JsonTokenType.PropertyName)
            {
                throw new JsonException($"state.json: expected a property name, got {reader.TokenType}");
            }

            var name = reader.GetString();
            Next(ref reader);
            switch (name)
            {
                case "ociVersion": ociVersion = String(ref reader); break;
                case "id": id = String(ref reader); break;
                case "status": status = Status(String(ref reader)); break;
                case "pid": pid = reader.GetInt32(); break;
                case "pidStartTime": pidStartTime = reader.GetUInt64(); break;
                case "bundle": bundle = String(ref reader); break;
                case "created": created = reader.GetDateTimeOffset(); break;
                case "ownerPid": ownerPid = reader.GetInt32(); break;
                case "ownerStartTime": ownerStartTime = reader.GetUInt64(); break;
                case "command": command = Strings(ref reader); break;
                case "exitCode": exitCode = reader.TokenType == JsonTokenType.Null ? null : reader.GetInt32(); break;
                case "init": init = reader.GetBoolean(); break;
                case "signal": signal = reader.TokenType == JsonTokenType.Null ? null : reader.GetInt32(); break;
                case "logPath": logPath = reader.TokenType == JsonTokenType.Null ? null : String(ref reader); break;
                default: reader.Skip(); break;
            }
        }

        return new ContainerState
        {
            OciVersion = ociVersion,
            Id = id ?? throw Missing("id"),
            Status = status ?? throw Missing("status"),
            Pid = pid,
            PidStartTime = pidStartTime,
            Bundle = bundle ?? throw Missing("bundle"),
            Created = created ?? throw Missing("created"),
            OwnerPid = ownerPid ?? throw Missing("ownerPid"),
            OwnerStartTime = ownerStartTime ?? throw Missing("ownerStartTime"),
            Command = command,
            ExitCode = exitCode,
            Init = init,
            Signal = signal,
            LogPath = logPath,
        };
    }

    private static ContainerStatus Status(string name) => name switch
    {
        "creating" => ContainerStatus.Creating,
        "created" => ContainerStatus.Created,
        "running" => ContainerStatus.Running,
        "stopped" => ContainerStatus.Stopped,
        _ => throw new JsonException($"state.json: unknown status '{name}'"),
    };

    private static List<string> Strings(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw new JsonException($"state.json: expected an array, got {reader.TokenType}");
        }

        var words = new List<string>();
        while (true)
        {
            Next(ref reader);
            if (reader.TokenType == JsonTokenType.EndArray)
            {
                return words;
            }

            words.Add(String(ref reader));
        }
    }

    private static string String(ref Utf8JsonReader reader) =>
        reader.TokenType == JsonTokenType.String
            ? reader.GetString()!
            : throw new JsonException($"state.json: expected a string, got {reader.TokenType}");

    private static void Expect(ref Utf8JsonReader reader, JsonTokenType type)
    {
        Next(ref reader);
        if (reader.TokenType != type)
        {
            throw new JsonException($"state.json: expected {type}, got {reader.TokenType}");
        }
    }

    private static void Next(ref Utf8JsonReader reader)
    {
        if (!reader.Read())
        {
            throw new JsonException("state.json: the document ends early");
        }
    }

    private static JsonException Missing(string name) => new($"state.json: '{name}' is missing");
}
