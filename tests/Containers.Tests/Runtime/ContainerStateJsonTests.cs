using System.Reflection;
using System.Text;
using System.Text.Json;
using Containers.Runtime;

namespace Containers.Tests.Runtime;

public sealed class ContainerStateJsonTests
{
    private static readonly ContainerState Full = new()
    {
        OciVersion = "1.2.1",
        Id = "every-field",
        Status = ContainerStatus.Stopped,
        Pid = 4242,
        PidStartTime = 987654321012,
        Bundle = "/run/containers-net/every-field",
        Created = new DateTimeOffset(2025, 3, 4, 5, 6, 7, 890, TimeSpan.Zero),
        OwnerPid = 77,
        OwnerStartTime = 123456789,
        Command = ["/bin/sh", "-c", "echo \"quoted\" ünïcode"],
        ExitCode = 3,
        Init = true,
        Signal = 15,
        LogPath = "/run/containers-net/every-field/container.log",
    };

    [Fact]
    public void Every_property_of_the_state_survives_a_write_and_a_read()
    {
        var read = RoundTrip(Full);

        // Property by property, so a property added to ContainerState but not to its JSON fails here by name.
        foreach (var property in typeof(ContainerState).GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            var expected = property.GetValue(Full);
            var actual = property.GetValue(read);
            if (expected is IEnumerable<string> words)
            {
                Assert.Equal(words, (IEnumerable<string>)actual!);
            }
            else
            {
                Assert.True(Equals(expected, actual), $"{property.Name}: wrote {expected}, read {actual}");
            }

            Assert.NotEqual(DefaultOf(property.PropertyType), expected);
        }
    }

    [Fact]
    public void Nulls_are_left_out_and_the_status_has_its_OCI_name()
    {
        var text = Write(Full with { ExitCode = null, Signal = null, LogPath = null, Status = ContainerStatus.Running });

        Assert.Contains("\"status\":\"running\"", text, StringComparison.Ordinal);
        Assert.DoesNotContain("exitCode", text, StringComparison.Ordinal);
        Assert.DoesNotContain("signal", text, StringComparison.Ordinal);
        Assert.DoesNotContain("logPath", text, StringComparison.Ordinal);
        Assert.Null(RoundTrip(Full with { ExitCode = null }).ExitCode);
    }

    [Fact]
    public void A_file_written_by_the_generated_serializer_reads_the_same()
    {
        // The format state.json had before it was written by hand, as System.Text.Json wrote it (camelCase, nulls out).
        const string old = """
            {"ociVersion":"1.2.0","id":"old","status":"created","pid":12,"pidStartTime":34,"bundle":"/b","created":"2025-01-02T03:04:05.678+00:00","ownerPid":56,"ownerStartTime":78,"command":["/bin/true"],"init":false,"future":{"a":[1,2]}}
            """;

        var state = ContainerStateJson.Read(Encoding.UTF8.GetBytes(old));

        Assert.Equal(("old", ContainerStatus.Created, 12, 34UL, "/b", 56, 78UL), (state.Id, state.Status, state.Pid, state.PidStartTime, state.Bundle, state.OwnerPid, state.OwnerStartTime));
        Assert.Equal(new DateTimeOffset(2025, 1, 2, 3, 4, 5, 678, TimeSpan.Zero), state.Created);
        Assert.Equal(["/bin/true"], state.Command);
    }

    [Theory]
    [InlineData("")]
    [InlineData("[]")]
    [InlineData("{\"id\":\"x\"")]
    [InlineData("{\"id\":\"x\",\"status\":\"created\",\"bundle\":\"/b\",\"created\":\"2025-01-02T03:04:05Z\",\"ownerPid\":1}")]
    [InlineData("{\"id\":\"x\",\"status\":\"paused\",\"bundle\":\"/b\",\"created\":\"2025-01-02T03:04:05Z\",\"ownerPid\":1,\"ownerStartTime\":2}")]
    [InlineData("{\"id\":\"x\",\"status\":\"created\",\"bundle\":\"/b\",\"created\":\"yesterday\",\"ownerPid\":1,\"ownerStartTime\":2}")]
    [InlineData("{\"id\":7,\"status\":\"created\",\"bundle\":\"/b\",\"created\":\"2025-01-02T03:04:05Z\",\"ownerPid\":1,\"ownerStartTime\":2}")]
    [InlineData("{\"id\":\"x\",\"status\":\"created\",\"bundle\":\"/b\",\"created\":\"2025-01-02T03:04:05Z\",\"ownerPid\":\"1\",\"ownerStartTime\":2}")]
    public void A_file_that_is_not_a_whole_state_is_a_JsonException(string text) =>
        Assert.ThrowsAny<JsonException>(() => ContainerStateJson.Read(Encoding.UTF8.GetBytes(text)));

    private static ContainerState RoundTrip(ContainerState state) => ContainerStateJson.Read(Encoding.UTF8.GetBytes(Write(state)));

    private static string Write(ContainerState state)
    {
        using var buffer = new MemoryStream();
        ContainerStateJson.Write(buffer, state);
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static object? DefaultOf(Type type) => type.IsValueType && Nullable.GetUnderlyingType(type) is null ? Activator.CreateInstance(type) : null;
}
