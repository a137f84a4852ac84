using Containers.Runtime;

namespace Containers.Tests.Runtime;

/// <summary>
/// The lock of a container's folder: a copy and a removal (two processes, perhaps) take it in turn, and one that
/// waited while the holder removed the folder finds it gone without putting anything back into it.
/// </summary>
public sealed class ContainerStorageLockTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("containers-storage-lock-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task A_waiter_while_the_holder_removes_the_folder_gets_no_lock_and_creates_nothing()
    {
        var folder = NewFolder();
        var (free, holder) = ContainerStorage.TryLock(folder);
        Assert.True(free);
        Assert.NotNull(holder);

        var waiter = ContainerStorage.LockAsync(folder, TestContext.Current.CancellationToken);
        await Task.Delay(30, TestContext.Current.CancellationToken);
        var waitedWhileHeld = !waiter.IsCompleted;

        // The holder empties and removes the folder while the waiter polls: nothing may appear in it meanwhile
        // (rmdir would fail with ENOTEMPTY), and the waiter then finds it gone.
        ContainerStorage.Remove(folder);
        holder.Dispose();
        var after = await waiter;

        Assert.True(waitedWhileHeld);
        Assert.Null(after);
        Assert.False(Directory.Exists(folder));
        Assert.Empty(Directory.EnumerateFileSystemEntries(_root));
    }

    [Fact]
    public void A_held_folder_is_not_free_and_a_missing_one_is_free_with_no_lock()
    {
        var folder = NewFolder();
        var (_, holder) = ContainerStorage.TryLock(folder);
        using (holder)
        {
            var (free, second) = ContainerStorage.TryLock(folder);

            Assert.False(free);
            Assert.Null(second);
        }

        var (freeAgain, again) = ContainerStorage.TryLock(folder);
        using (again)
        {
            Assert.True(freeAgain);
            Assert.NotNull(again);
        }

        Assert.Equal((true, null), ContainerStorage.TryLock(Path.Combine(_root, "missing")));
        Assert.Equal(["upper"], Directory.EnumerateFileSystemEntries(folder).Select(Path.GetFileName));
    }

    private string NewFolder()
    {
        var folder = Path.Combine(_root, "c-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(Path.Combine(folder, "upper", "etc"));
        File.WriteAllText(Path.Combine(folder, "upper", "etc", "hostname"), "c\n");
        return folder;
    }
}
