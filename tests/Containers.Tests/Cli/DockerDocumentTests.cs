using System.Globalization;
using System.Text.Json;
using Containers.Cli;
using Containers.Cli.Commands;
using Containers.Images;
using Containers.Runtime;

namespace Containers.Tests.Cli;

/// <summary>The documents of <c>version</c>, <c>ps</c> and <c>images</c> with <c>--format</c>: Docker's fields, names and value formats.</summary>
public sealed class DockerDocumentTests
{
    private static readonly DateTimeOffset Now = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);

    [Fact]
    public void Version_nests_the_client_as_Docker_does_and_has_no_server()
    {
        var text = VersionCommand.Json("1.2.3", ".NET 10.0.0", nativeAot: true, "linux", "amd64");

        using var document = JsonDocument.Parse(text);
        var client = document.RootElement.GetProperty("Client");
        Assert.Equal("1.2.3", client.GetProperty("Version").GetString());
        Assert.Equal("linux", client.GetProperty("Os").GetString());
        Assert.Equal("amd64", client.GetProperty("Arch").GetString());
        Assert.Equal(".NET 10.0.0", client.GetProperty("Runtime").GetString());
        Assert.True(client.GetProperty("NativeAot").GetBoolean());
        Assert.Equal(JsonValueKind.Null, document.RootElement.GetProperty("Server").ValueKind);
        Assert.Equal(["Client", "Server"], document.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Equal("1.2.3", GoTemplate.Parse("{{.Client.Version}}").Execute(document.RootElement));
        Assert.False(client.TryGetProperty("GitCommit", out _));
    }

    [Fact]
    public void Version_keeps_the_commit_apart_as_Docker_does()
    {
        var text = VersionCommand.Json("0.1.0-preview.1+837f399f85b1643d29f56d69f6a2d6656570fc29", ".NET 10.0.0", nativeAot: false, "linux", "arm64");

        using var document = JsonDocument.Parse(text);
        var client = document.RootElement.GetProperty("Client");
        Assert.Equal("0.1.0-preview.1", client.GetProperty("Version").GetString());
        Assert.Equal("837f399", client.GetProperty("GitCommit").GetString());
        Assert.Equal(["Version", "GitCommit", "Os", "Arch", "Runtime", "NativeAot"], client.EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public void Ps_has_Dockers_fields_and_formats()
    {
        var state = new ContainerInfo
        {
            Id = "0123456789abcdef0123",
            Status = ContainerStatus.Running,
            Created = new DateTimeOffset(2026, 1, 2, 5, 3, 5, TimeSpan.FromHours(2)),
            Command = ["sh", "-c", "echo \"hi\" && sleep 1000"],
            Bundle = "/nonexistent",
            OwnerPid = 1,
            Volumes = ["data", "0f1e2d"],
            Image = new ContainerImage { Reference = "busybox:latest", Digest = "sha256:" + new string('a', 64), Labels = new Dictionary<string, string> { ["z"] = "1", ["a"] = "x=y" } },
        };
        var row = new ContainerRow(state, Now.AddMinutes(-1), null)
        {
            Image = "busybox:latest",
            Mounts = ["data", "0f1e2d3c4b5a69788796a5b4c3d2e1f0", "/srv/www/static/assets"],
            Network = "none",
        };

        using var document = JsonDocument.Parse(PsCommand.Json(row, Now));
        var json = document.RootElement;

        Assert.Equal(
            ["Command", "CreatedAt", "ID", "Image", "Labels", "LocalVolumes", "Mounts", "Names", "Networks", "Ports", "RunningFor", "State", "Status"],
            json.EnumerateObject().Select(p => p.Name));
        Assert.Equal("\"sh -c echo \\\"hi\\\" && …\"", json.GetProperty("Command").GetString());
        Assert.Equal("2026-01-02 03:03:05 +0000 UTC", json.GetProperty("CreatedAt").GetString());
        Assert.Equal("0123456789ab", json.GetProperty("ID").GetString());
        Assert.Equal("busybox:latest", json.GetProperty("Image").GetString());
        Assert.Equal("a=x=y,z=1", json.GetProperty("Labels").GetString());
        Assert.Equal("2", json.GetProperty("LocalVolumes").GetString());
        Assert.Equal("data,0f1e2d3c4b5a69…,/srv/www/stati…", json.GetProperty("Mounts").GetString());
        Assert.Equal("0123456789abcdef0123", json.GetProperty("Names").GetString());
        Assert.Equal("none", json.GetProperty("Networks").GetString());
        Assert.Equal(string.Empty, json.GetProperty("Ports").GetString());
        Assert.Equal("About a minute ago", json.GetProperty("RunningFor").GetString());
        Assert.Equal("running", json.GetProperty("State").GetString());
        Assert.Equal("Up About a minute", json.GetProperty("Status").GetString());

        // --no-trunc: the whole id and command, as Docker's.
        using var whole = JsonDocument.Parse(PsCommand.Json(row, Now, whole: true));
        Assert.Equal("0123456789abcdef0123", whole.RootElement.GetProperty("ID").GetString());
        Assert.Equal("\"sh -c echo \\\"hi\\\" && sleep 1000\"", whole.RootElement.GetProperty("Command").GetString());
        Assert.Equal("data,0f1e2d3c4b5a69788796a5b4c3d2e1f0,/srv/www/static/assets", whole.RootElement.GetProperty("Mounts").GetString());

        // A network namespace joined by path: its network is not known, and the field is left out.
        using var joined = JsonDocument.Parse(PsCommand.Json(row with { Network = null }, Now));
        Assert.False(joined.RootElement.TryGetProperty("Networks", out _));
    }

    [Fact]
    public void Ps_mounts_are_the_specs_bind_mounts_with_the_states_volumes_by_name_and_its_network_from_its_namespaces()
    {
        using var spec = JsonDocument.Parse("""
            {
              "mounts": [
                {"destination": "/proc", "type": "proc", "source": "proc"},
                {"destination": "/data", "type": "bind", "source": "/var/lib/containers-net/volumes/data/_data", "options": ["rbind", "rw"]},
                {"destination": "/x", "type": "bind", "source": "/srv/x"},
                {"destination": "/t", "type": "tmpfs", "source": "tmpfs"},
                {"destination": "/y", "source": "/srv/y", "options": ["rbind", "ro"]},
                {"destination": "/z", "type": "bind", "source": "/srv/other/_data"}
              ],
              "linux": {"namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "mount"}]}
            }
            """);

        var (mounts, network) = ContainerRow.Describe(spec.RootElement, ["data"]);

        Assert.Equal(["data", "/srv/x", "/srv/y", "/srv/other/_data"], mounts);
        Assert.Equal("none", network);
    }

    [Theory]
    [InlineData("host", "")]
    [InlineData("none", "/etc/resolv.conf,/etc/hosts")]
    public void Ps_mounts_leave_out_the_hosts_resolv_conf_and_hosts_the_runtime_binds_on_the_hosts_network(string network, string expected)
    {
        var namespaces = network == "host" ? "" : """{"type": "network"}""";
        using var spec = JsonDocument.Parse($$"""
            {
              "mounts": [
                {"destination": "/etc/resolv.conf", "type": "bind", "source": "/etc/resolv.conf", "options": ["rbind", "ro"]},
                {"destination": "/etc/hosts", "type": "bind", "source": "/etc/hosts", "options": ["rbind", "ro"]}
              ],
              "linux": {"namespaces": [{{namespaces}}]}
            }
            """);

        Assert.Equal(expected, string.Join(',', ContainerRow.Describe(spec.RootElement, []).Mounts));
    }

    [Theory]
    [InlineData("""{"linux": {"namespaces": [{"type": "pid"}, {"type": "mount"}]}}""", "host")]
    [InlineData("""{}""", "host")]
    [InlineData("""{"linux": {"namespaces": [{"type": "network", "path": "/proc/42/ns/net"}]}}""", null)]
    [InlineData("""{"linux": {"namespaces": [{"type": "network"}]}}""", "none")]
    public void Ps_networks_is_none_for_a_namespace_of_its_own_host_without_one_and_unknown_for_a_joined_one(string json, string? expected)
    {
        using var spec = JsonDocument.Parse(json);

        Assert.Equal(expected, ContainerRow.Describe(spec.RootElement, []).Network);
    }

    [Theory]
    [InlineData("true", "\"true\"")]
    [InlineData("a\\b\"c", "\"a\\\\b\\\"c\"")]
    [InlineData("a\nb\tc\u0001", "\"a\\nb\\tc\\x01\"")]
    [InlineData("é…", "\"é…\"")]
    public void Commands_are_quoted_as_Gos_strconv_Quote(string command, string expected) =>
        Assert.Equal(expected, PsCommand.GoQuote(command));

    [Fact]
    public void Images_have_Dockers_fields_and_formats()
    {
        var digest = Digest.Parse("sha256:" + string.Concat(Enumerable.Repeat("0123456789abcdef", 4)));

        using var document = JsonDocument.Parse(ImagesCommand.Json("busybox", "latest", digest, Now.AddDays(-3), 4_261_000, Now));
        var json = document.RootElement;

        Assert.Equal(
            ["Containers", "CreatedAt", "CreatedSince", "Digest", "ID", "Repository", "SharedSize", "Size", "Tag", "UniqueSize", "VirtualSize"],
            json.EnumerateObject().Select(p => p.Name));
        Assert.Equal("N/A", json.GetProperty("Containers").GetString());
        Assert.Equal("2025-12-30 03:04:05 +0000 UTC", json.GetProperty("CreatedAt").GetString());
        Assert.Equal("3 days ago", json.GetProperty("CreatedSince").GetString());
        Assert.Equal(digest.ToString(), json.GetProperty("Digest").GetString());
        Assert.Equal("0123456789ab", json.GetProperty("ID").GetString());
        Assert.Equal("busybox", json.GetProperty("Repository").GetString());
        Assert.Equal("latest", json.GetProperty("Tag").GetString());
        Assert.Equal("4.26MB", json.GetProperty("Size").GetString());
        Assert.Equal("4.26MB", json.GetProperty("VirtualSize").GetString());
        Assert.Equal("N/A", json.GetProperty("SharedSize").GetString());
        Assert.Equal("N/A", json.GetProperty("UniqueSize").GetString());
    }

    [Fact]
    public void An_image_without_a_creation_time_says_so()
    {
        var digest = Digest.Parse("sha256:" + new string('f', 64));

        using var document = JsonDocument.Parse(ImagesCommand.Json("<none>", "<none>", digest, null, 0, Now));

        Assert.Equal("N/A", document.RootElement.GetProperty("CreatedAt").GetString());
        Assert.Equal("N/A", document.RootElement.GetProperty("CreatedSince").GetString());
        Assert.Equal("0B", document.RootElement.GetProperty("Size").GetString());
    }

    [Theory]
    [InlineData(0, "0B")]
    [InlineData(999, "999B")]
    [InlineData(1000, "1kB")]
    [InlineData(1500, "1.5kB")]
    [InlineData(12_345, "12.3kB")]
    [InlineData(123_456, "123kB")]
    [InlineData(999_999, "1MB")]
    [InlineData(4_261_234, "4.26MB")]
    [InlineData(1_234_567_890, "1.23GB")]
    public void Sizes_have_three_significant_digits_in_decimal_units(long bytes, string expected) =>
        Assert.Equal(expected, HumanTime.Size(bytes));

    [Fact]
    public void Creation_times_use_Gos_default_layout_in_UTC() =>
        Assert.Equal("2026-01-02 01:04:05 +0000 UTC", HumanTime.GoTime(DateTimeOffset.Parse("2026-01-02T03:04:05.75+02:00", CultureInfo.InvariantCulture)));
}
