using Containers.Images.Model;
using Containers.Runtime;
using Containers.Runtime.Images;
using Containers.Spec;

namespace Containers.Tests.Runtime.Images;

public sealed class ImageSpecTests
{
    private static readonly ContainerConfig Nginx = new()
    {
        Entrypoint = ["/docker-entrypoint.sh"],
        Cmd = ["nginx", "-g", "daemon off;"],
        Env = ["PATH=/usr/local/sbin:/usr/bin", "NGINX_VERSION=1.25"],
        WorkingDir = "/srv",
        User = "nginx:www",
        ExposedPorts = ["80/tcp", "443/tcp"],
        Volumes = ["/var/cache/nginx", "/data/"],
        Labels = new Dictionary<string, string> { ["maintainer"] = "someone", ["tier"] = "web" },
        StopSignal = "SIGQUIT",
    };

    [Fact]
    public void The_image_config_gives_the_process_its_arguments_environment_directory_and_user()
    {
        var image = ImageSpec.From(Nginx, ImageContainerOptions.Default);

        var process = image.Spec.Process!;
        Assert.Equal(["/docker-entrypoint.sh", "nginx", "-g", "daemon off;"], process.Args);
        Assert.Equal(["PATH=/usr/local/sbin:/usr/bin", "NGINX_VERSION=1.25"], process.Env);
        Assert.Equal("/srv", process.Cwd);
        Assert.Equal("nginx:www", image.User);
        Assert.Equal(["80/tcp", "443/tcp"], image.ExposedPorts);
        Assert.Equal(["/var/cache/nginx", "/data"], image.Volumes);
        Assert.Equal("web", image.Labels["tier"]);
        Assert.Equal(3, image.StopSignal);
        Assert.Null(image.Spec.Root);
    }

    [Fact]
    public void A_command_replaces_only_the_cmd()
    {
        var image = ImageSpec.From(Nginx, new ImageContainerOptions { Command = ["sh", "-c", "true"] });

        Assert.Equal(["/docker-entrypoint.sh", "sh", "-c", "true"], image.Spec.Process!.Args);
    }

    [Fact]
    public void An_entrypoint_replaces_the_entrypoint_and_drops_the_images_cmd()
    {
        Assert.Equal(["/bin/sh"], ImageSpec.From(Nginx, new ImageContainerOptions { Entrypoint = ["/bin/sh"] }).Spec.Process!.Args);
        Assert.Equal(
            ["/bin/sh", "-c", "id"],
            ImageSpec.From(Nginx, new ImageContainerOptions { Entrypoint = ["/bin/sh"], Command = ["-c", "id"] }).Spec.Process!.Args);
        Assert.Equal(
            ["id", "-u"],
            ImageSpec.From(Nginx, new ImageContainerOptions { Entrypoint = [], Command = ["id", "-u"] }).Spec.Process!.Args);
    }

    [Fact]
    public void Nothing_to_run_is_refused_with_the_field_that_is_missing()
    {
        var cmdOnly = new ContainerConfig { Cmd = ["sh"] };

        var none = Assert.Throws<InvalidImageConfigException>(() => ImageSpec.From(new ContainerConfig(), ImageContainerOptions.Default));
        Assert.Equal("Cmd", none.Field);
        Assert.Contains("give the command", none.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidImageConfigException>(() => ImageSpec.From(null, ImageContainerOptions.Default));
        Assert.Throws<InvalidImageConfigException>(() => ImageSpec.From(Nginx, new ImageContainerOptions { Entrypoint = [] }));
        Assert.Equal(["sh"], ImageSpec.From(cmdOnly, ImageContainerOptions.Default).Spec.Process!.Args);
    }

    [Fact]
    public void The_callers_variables_come_after_the_images_and_win()
    {
        var image = ImageSpec.From(Nginx, new ImageContainerOptions { Env = ["NGINX_VERSION=2", "EXTRA=1", "EXTRA=2"] });

        Assert.Equal(["PATH=/usr/local/sbin:/usr/bin", "NGINX_VERSION=2", "EXTRA=2"], image.Spec.Process!.Env);
    }

    [Fact]
    public void An_image_without_path_gets_the_usual_one()
    {
        var image = ImageSpec.From(new ContainerConfig { Cmd = ["sh"], Env = ["A=b"] }, ImageContainerOptions.Default);

        Assert.Equal(["PATH=" + ContainerSpec.DefaultPath, "A=b"], image.Spec.Process!.Env);
    }

    [Fact]
    public void A_variable_without_a_name_is_refused()
    {
        var ex = Assert.Throws<InvalidImageConfigException>(() => ImageSpec.From(new ContainerConfig { Cmd = ["sh"], Env = ["=x"] }, ImageContainerOptions.Default));
        Assert.Equal("Env", ex.Field);
        Assert.Throws<InvalidImageConfigException>(() => ImageSpec.From(Nginx, new ImageContainerOptions { Env = ["JUSTANAME"] }));
    }

    [Fact]
    public void The_callers_directory_user_labels_and_stop_signal_win()
    {
        var image = ImageSpec.From(Nginx, new ImageContainerOptions
        {
            WorkingDirectory = "/tmp",
            User = "1000:1000",
            Labels = new Dictionary<string, string> { ["tier"] = "db" },
            StopSignal = "RTMIN+3",
        });

        Assert.Equal("/tmp", image.Spec.Process!.Cwd);
        Assert.Equal("1000:1000", image.User);
        Assert.Equal("db", image.Labels["tier"]);
        Assert.Equal("someone", image.Labels["maintainer"]);
        Assert.Equal(37, image.StopSignal);
    }

    [Fact]
    public void No_user_and_no_directory_mean_root_in_the_root()
    {
        var image = ImageSpec.From(new ContainerConfig { Cmd = ["sh"], User = "" }, ImageContainerOptions.Default);

        Assert.Null(image.User);
        Assert.Equal("/", image.Spec.Process!.Cwd);
        Assert.Null(image.StopSignal);
    }

    [Theory]
    [InlineData("../../x")]
    [InlineData("/data/../../etc")]
    [InlineData("data")]
    [InlineData("/")]
    [InlineData("")]
    public void A_volume_path_that_is_relative_climbs_or_is_the_root_is_refused(string path)
    {
        var ex = Assert.Throws<InvalidImageConfigException>(() => ImageSpec.From(new ContainerConfig { Cmd = ["sh"], Volumes = [path] }, ImageContainerOptions.Default));
        Assert.Equal("Volumes", ex.Field);
    }

    [Fact]
    public void A_relative_working_directory_and_an_unknown_stop_signal_are_refused()
    {
        Assert.Equal("WorkingDir", Assert.Throws<InvalidImageConfigException>(() => ImageSpec.From(new ContainerConfig { Cmd = ["sh"], WorkingDir = "app" }, ImageContainerOptions.Default)).Field);
        Assert.Equal("StopSignal", Assert.Throws<InvalidImageConfigException>(() => ImageSpec.From(new ContainerConfig { Cmd = ["sh"], StopSignal = "SIGNOPE" }, ImageContainerOptions.Default)).Field);
        Assert.Equal("StopSignal", Assert.Throws<InvalidImageConfigException>(() => ImageSpec.From(Nginx, new ImageContainerOptions { StopSignal = "65" })).Field);
    }
}
