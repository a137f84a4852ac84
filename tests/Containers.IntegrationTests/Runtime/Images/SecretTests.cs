using System.IO.Compression;
using System.Text;
using Containers.Images;
using Containers.IntegrationTests.Images;
using Containers.IntegrationTests.Support;
using Containers.Runtime;

namespace Containers.IntegrationTests.Runtime.Images;

/// <summary>
/// Secrets at <c>/run/secrets</c>: read-only, mode 0400, the container user's, and nowhere on disk afterwards (not in
/// the writable layer, the state directory, the log or a commit).
/// </summary>
public sealed class SecretTests : IAsyncLifetime
{
    private readonly TempDirectory _temp = new();
    private readonly string _secret = "s3cr3t-" + Guid.NewGuid().ToString("N");
    private ImageStore _store = null!;
    private ContainerRuntime _runtime = null!;
    private ImageRuntime _images = null!;
    private string _state = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _images = await ImageRuntime.OpenAsync(_temp, Ct);
        (_store, _runtime) = (_images.Store, _images.Runtime);
        _state = _images.StateDirectory;
        var layout = await ConfiguredImage.BuildAsync(_temp.Combine("image"), ["--config.entrypoint=sh", "--config.env=PATH=/bin"]);
        await _store.ImportAsync(layout, "secrets:1", progress: null, Ct);
    }

    public async ValueTask DisposeAsync()
    {
        await _images.DisposeAsync();
        _temp.Dispose();
    }

    [Fact(Timeout = 120_000)]
    public async Task A_secret_is_read_only_0400_and_the_users_and_is_absent_from_the_upper_layer_the_state_the_log_and_a_commit()
    {
        var file = _temp.Combine("token.txt");
        await File.WriteAllTextAsync(file, _secret, Ct);
        var secrets = new ContainerCreateOptions
        {
            Stdio = ContainerStdio.Pipes,
            KeepLog = true,
            Secrets = [ContainerSecret.FromFile("token", file), ContainerSecret.FromBytes("other.key", "in memory"u8)],
        };

        await using var container = await _runtime.CreateFromImageAsync(null, "secrets:1", new ImageContainerOptions
        {
            User = "app",
            Command = ["-c", "stat -c '%a %u %g %n' /run/secrets/*; cat /run/secrets/token > /dev/null && echo read; grep ' /run/secrets ' /proc/mounts | busybox cut -d' ' -f3,4"],
            Create = secrets,
        }, Ct);
        await container.StartAsync(Ct);
        Assert.Equal(0, (await container.WaitAsync(Ct)).ExitCode);
        var log = new StringBuilder();
        await foreach (var entry in container.ReadLogAsync(cancellationToken: Ct))
        {
            log.Append(entry.Text);
        }

        var asRoot = await _runtime.RunFromImageAsync("secrets:1", new ImageContainerOptions
        {
            Command = ["-c", "cat /run/secrets/token; echo; echo x > /run/secrets/token || echo no write; touch /run/secrets/new || echo no create"],
            Create = secrets with { KeepLog = false },
        }, Ct);
        var committed = await container.CommitAsync("with-secret:1", cancellationToken: Ct);

        Assert.StartsWith("400 1234 2000 /run/secrets/other.key\n400 1234 2000 /run/secrets/token\nread\ntmpfs ro,nosuid,nodev,noexec", log.ToString(), StringComparison.Ordinal);
        Assert.Equal(_secret + "\nno write\nno create\n", asRoot.Stdout);
        Assert.Contains("Read-only file system", asRoot.Stderr, StringComparison.Ordinal);
        Assert.Empty(await container.DiffAsync(Ct));
        Assert.Empty(FilesContaining(_temp.Combine("containers"), _secret));
        Assert.Empty(FilesContaining(_state, _secret));
        Assert.Empty(FilesContaining(_state, file));
        var layer = Path.Combine(_store.Root, "blobs", "sha256", committed.Manifest.Layers[^1].Digest.Hex);
        using var tar = new MemoryStream();
        await using (var gzip = new GZipStream(File.OpenRead(layer), CompressionMode.Decompress))
        {
            await gzip.CopyToAsync(tar, Ct);
        }

        Assert.DoesNotContain("secret", Encoding.Latin1.GetString(tar.ToArray()), StringComparison.Ordinal);
        Assert.Empty(FilesContaining(_store.Root, _secret));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_bad_secret_is_refused_before_anything_is_created()
    {
        var missing = ContainerSecret.FromFile("gone", _temp.Combine("no-such-file"));
        var twice = new[] { ContainerSecret.FromBytes("a", "1"u8), ContainerSecret.FromBytes("a", "2"u8) };

        var badName = Assert.Throws<InvalidSecretException>(() => ContainerSecret.FromBytes("../escape", "x"u8));
        var tooBig = Assert.Throws<InvalidSecretException>(() => ContainerSecret.FromBytes("big", new byte[ContainerSecret.MaxBytes + 1]));
        var unreadable = await Assert.ThrowsAsync<InvalidSecretException>(() => _runtime.CreateFromImageAsync(
            null, "secrets:1", new ImageContainerOptions { Create = new ContainerCreateOptions { Secrets = [missing] } }, Ct));
        var duplicate = await Assert.ThrowsAsync<InvalidSecretException>(() => _runtime.CreateFromImageAsync(
            null, "secrets:1", new ImageContainerOptions { Create = new ContainerCreateOptions { Secrets = twice } }, Ct));

        Assert.Equal("../escape", badName.Name);
        Assert.Contains("at most", tooBig.Message, StringComparison.Ordinal);
        Assert.Contains("no-such-file", unreadable.Message, StringComparison.Ordinal);
        Assert.Contains("twice", duplicate.Message, StringComparison.Ordinal);
        Assert.Empty(StateEntries.Of(_state));
        Assert.Empty(Directory.Exists(_temp.Combine("containers")) ? Directory.GetFileSystemEntries(_temp.Combine("containers")) : []);
    }

    /// <summary>The files below <paramref name="directory"/> whose bytes contain <paramref name="text"/> (links are not followed; an unreadable file counts as containing it).</summary>
    private static List<string> FilesContaining(string directory, string text)
    {
        var needle = Encoding.UTF8.GetBytes(text);
        var found = new List<string>();
        if (!Directory.Exists(directory))
        {
            return found;
        }

        // Overlay's work/work directory has mode 0 (nothing in it); everything else is entered.
        foreach (var path in Directory.EnumerateFiles(directory, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0, IgnoreInaccessible = true }))
        {
            // Whiteouts, fifos and empty files cannot hold it; a link is looked at where it points, if there.
            if (File.ResolveLinkTarget(path, returnFinalTarget: false) is not null || new FileInfo(path).Length == 0)
            {
                continue;
            }

            try
            {
                if (File.ReadAllBytes(path).AsSpan().IndexOf(needle) >= 0)
                {
                    found.Add(path);
                }
            }
            catch (UnauthorizedAccessException)
            {
                found.Add(path + " (unreadable)");
            }
        }

        return found;
    }
}
