using Containers.Cli.Commands;
using Containers.Runtime;

namespace Containers.Tests.Cli;

/// <summary>What inspect and ps show of a container's state in Docker's terms: its status names and its times.</summary>
public sealed class DockerStateTests
{
    [Theory]
    [InlineData(ContainerStatus.Creating, "created")]
    [InlineData(ContainerStatus.Created, "created")]
    [InlineData(ContainerStatus.Running, "running")]
    [InlineData(ContainerStatus.Paused, "paused")]
    [InlineData(ContainerStatus.Stopped, "exited")]
    public void Each_status_has_Dockers_name(ContainerStatus status, string expected)
    {
        var row = new ContainerRow(new ContainerInfo { Id = "c", Status = status, Created = DateTimeOffset.UnixEpoch, Command = ["true"], Bundle = "/nonexistent", OwnerPid = 1 }, null, null);

        Assert.Equal(expected, row.DockerStatus);
    }

    [Theory]
    [InlineData("2026-01-02T03:04:05+00:00", "2026-01-02T03:04:05Z")]
    [InlineData("2026-01-02T03:04:05.5000000+00:00", "2026-01-02T03:04:05.5Z")]
    [InlineData("2026-01-02T03:04:05.1234567+00:00", "2026-01-02T03:04:05.1234567Z")]
    [InlineData("2026-01-02T05:04:05.25+02:00", "2026-01-02T03:04:05.25Z")]
    public void Times_are_written_as_Gos_RFC3339Nano_in_UTC(string time, string expected) =>
        Assert.Equal(expected, InspectCommand.Rfc3339(DateTimeOffset.Parse(time, System.Globalization.CultureInfo.InvariantCulture)));
}
