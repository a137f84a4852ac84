using System.Text;
using System.Text.Json;
using Containers.Images;
using Containers.Images.Model;

namespace Containers.Tests.Images;

public sealed class ContainerConfigJsonTests
{
    [Fact]
    public void Exposed_ports_and_volumes_read_as_the_keys_of_their_sets_and_write_back_as_sets()
    {
        const string Json = """{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]},"config":{"ExposedPorts":{"80/tcp":{},"53/udp":{}},"Volumes":{"/data":{}}}}""";

        var config = ImageDocuments.ReadConfig(Encoding.UTF8.GetBytes(Json), manifest: null, "config");

        Assert.Equal(["80/tcp", "53/udp"], config.Config!.ExposedPorts);
        Assert.Equal(["/data"], config.Config.Volumes);
        using var written = JsonDocument.Parse(JsonSerializer.Serialize(config, ImageJsonContext.Default.ImageConfig));
        var ports = written.RootElement.GetProperty("config").GetProperty("ExposedPorts");
        Assert.Equal(["80/tcp", "53/udp"], ports.EnumerateObject().Select(p => p.Name));
        Assert.All(ports.EnumerateObject(), p => Assert.Equal("{}", p.Value.GetRawText()));
    }

    [Fact]
    public void A_set_that_is_not_an_object_is_rejected()
    {
        const string Json = """{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]},"config":{"Volumes":["/data"]}}""";

        Assert.Throws<InvalidImageException>(() => ImageDocuments.ReadConfig(Encoding.UTF8.GetBytes(Json), manifest: null, "config"));
    }
}
