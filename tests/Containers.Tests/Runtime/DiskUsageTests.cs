using Containers.Runtime;

namespace Containers.Tests.Runtime;

/// <summary>
/// <see cref="DiskUsage"/> on a tree made here: files counted by size, a hard-linked file once, directories not at
/// all, and a symbolic link as its own bytes (its target's length) without following it out of the tree.
/// </summary>
public sealed class DiskUsageTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("disk-usage-").FullName;
    private readonly string _outside = Directory.CreateTempSubdirectory("disk-usage-outside-").FullName;

    public void Dispose()
    {
        Directory.Delete(_root, recursive: true);
        Directory.Delete(_outside, recursive: true);
    }

    [Fact]
    public void Files_count_by_size_a_hard_link_once_and_a_link_to_a_directory_outside_as_its_target_s_length()
    {
        Directory.CreateDirectory(Path.Combine(_root, "a", "b"));
        File.WriteAllBytes(Path.Combine(_root, "a", "one"), new byte[1000]);
        File.WriteAllBytes(Path.Combine(_root, "a", "b", "two"), new byte[234]);
        using (var ln = System.Diagnostics.Process.Start("ln", [Path.Combine(_root, "a", "one"), Path.Combine(_root, "one-again")]))
        {
            ln.WaitForExit();
            Assert.Equal(0, ln.ExitCode);
        }

        File.WriteAllBytes(Path.Combine(_outside, "big"), new byte[1 << 20]);
        File.CreateSymbolicLink(Path.Combine(_root, "a", "out"), _outside);

        var total = DiskUsage.Of(_root, null, CancellationToken.None);

        Assert.Equal(1000 + 234 + _outside.Length, total);
    }

    [Fact]
    public void A_missing_root_holds_nothing()
    {
        Assert.Equal(0, DiskUsage.Of(Path.Combine(_root, "gone"), null, CancellationToken.None));
    }
}
