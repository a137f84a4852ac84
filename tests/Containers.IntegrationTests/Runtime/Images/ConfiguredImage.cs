using Containers.IntegrationTests.Support;

namespace Containers.IntegrationTests.Runtime.Images;

/// <summary>
/// Images with a config of their own, built with <c>umoci</c> from Debian's busybox-static: one layer with
/// <c>/bin/busybox</c> and links for the applets the tests use, <c>/etc/passwd</c> and <c>/etc/group</c> (user
/// <c>app</c> 1234:2000, group <c>staff</c> 50 listing it), and whatever <paramref name="files"/> adds; then the
/// config that <paramref name="config"/> sets with <c>umoci config</c> flags (<c>--config.user=app</c>).
/// </summary>
internal static class ConfiguredImage
{
    private static readonly string[] Applets = ["sh", "cat", "echo", "env", "id", "ls", "pwd", "sleep", "stat", "test", "touch", "true", "mount", "grep"];

    public static async Task<string> BuildAsync(string directory, string[] config, Action<string>? files = null)
    {
        Requires.Tool("umoci");
        Assert.SkipUnless(File.Exists("/bin/busybox"), "needs /bin/busybox (Debian package busybox-static)");
        var layout = Path.Combine(directory, "layout");
        var bundle = Path.Combine(directory, "bundle");
        var image = $"{layout}:{ImageFixtures.Tag}";
        string[] rootless = Requires.IsRoot ? [] : ["--rootless"];
        await ImageFixtures.RunAsync("umoci", "init", "--layout", layout);
        await ImageFixtures.RunAsync("umoci", "new", "--image", image);
        await ImageFixtures.RunAsync("umoci", ["unpack", .. rootless, "--image", image, bundle]);
        var rootfs = Path.Combine(bundle, "rootfs");
        Directory.CreateDirectory(Path.Combine(rootfs, "bin"));
        Directory.CreateDirectory(Path.Combine(rootfs, "etc"));
        File.Copy("/bin/busybox", Path.Combine(rootfs, "bin", "busybox"));
        foreach (var applet in Applets)
        {
            File.CreateSymbolicLink(Path.Combine(rootfs, "bin", applet), "busybox");
        }

        await File.WriteAllTextAsync(Path.Combine(rootfs, "etc", "passwd"), "root:x:0:0:root:/root:/bin/sh\napp:x:1234:2000::/home/app:/bin/sh\n");
        await File.WriteAllTextAsync(Path.Combine(rootfs, "etc", "group"), "root:x:0:\napp:x:2000:\nstaff:x:50:app\n");
        files?.Invoke(rootfs);
        await ImageFixtures.RunAsync("umoci", "repack", "--image", image, bundle);
        await ImageFixtures.RunAsync("umoci", ["config", "--image", image, .. config]);
        Directory.Delete(bundle, recursive: true);
        return layout;
    }
}
