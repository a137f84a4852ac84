using System.Runtime.InteropServices;
using Containers.Linux;
using Microsoft.Win32.SafeHandles;
using static Containers.Linux.FileSystemCalls;

namespace Containers.Runtime;

/// <summary>
/// A copy is all or nothing: what it made is removed when it fails or is canceled, and what it replaced is put
/// back. Every entry is made under a temporary name and renamed into place; one that takes the place of an existing
/// entry is exchanged with it (<c>RENAME_EXCHANGE</c>), so the old entry waits under the temporary name until the
/// copy ends. The topmost entries made (those in a directory the copy did not make) are held by a duplicate of the fd
/// of their directory and their name, so undoing them never resolves a path the container could have swapped for a
/// link meanwhile. Without root, the directories whose owners the container's user namespace was asked to give are
/// given back to the caller there first (another user's directory cannot be emptied by the caller).
/// </summary>
internal sealed unsafe partial class ContainerCopy : IDisposable
{
    private const uint RenameExchange = 2;

    /// <summary>Duplicated fds of the directories entries were made or replaced in, by device and inode.</summary>
    private readonly Dictionary<(uint Major, uint Minor, ulong Ino), SafeFileHandle> _directories = [];

    /// <summary>The directories this copy made (device and inode): what is made in them is removed with them.</summary>
    private readonly HashSet<(uint Major, uint Minor, ulong Ino)> _madeDirectories = [];

    /// <summary>Entries made where nothing was, with the stage of their directory when the caller may not write to it.</summary>
    private readonly List<(SafeFileHandle Directory, string Name, Stage? Stage)> _made = [];

    /// <summary>Entries replaced, kept under a temporary name in their directory or, with a stage, in that stage.</summary>
    private readonly List<(SafeFileHandle Directory, string Name, string Old, Stage? Stage)> _replaced = [];

    /// <summary>Paths (beneath the destination root) of the directories made whose owners the user namespace gives.</summary>
    private readonly List<string> _deferredDirectories = [];

    public void Dispose()
    {
        foreach (var stage in _stages.Values)
        {
            stage.Handle.Dispose();
        }

        foreach (var directory in _directories.Values)
        {
            directory.Dispose();
        }

        _stages.Clear();
        _directories.Clear();
    }

    /// <summary>
    /// Runs <paramref name="copy"/>, then gives the owners left to the container's user namespace and drops the
    /// entries replaced; when anything fails or is canceled, removes what was made and puts back what was replaced.
    /// </summary>
    private void AllOrNothing(SafeFileHandle destinationRoot, Action copy, CancellationToken cancellationToken)
    {
        try
        {
            copy();
            FlushPuts();
            GiveOwners(destinationRoot, cancellationToken);
        }
        catch (Exception cause)
        {
            if (Undo(destinationRoot) is { } failure)
            {
                throw new ContainersIOException(
                    $"{cause.Message}; removing what the copy had made failed too: {failure} (remove it by hand)", (cause as ContainersIOException)?.Path, cause);
            }

            throw;
        }

        foreach (var (directory, _, old, stage) in _replaced)
        {
            // The copy is complete: what it replaced goes. A failure leaves a hidden temporary name, never a half copy.
            if (stage is null)
            {
                _ = DirectoryTree.Remove(directory, System.Text.Encoding.UTF8.GetBytes(old));
            }
        }

        _ = RemoveStages();
    }

    /// <summary>Records that <paramref name="name"/> in <paramref name="directory"/> (put there from <paramref name="stage"/>, if any) was made by this copy where nothing was.</summary>
    private void Made(SafeFileHandle directory, string name, Stage? stage)
    {
        var key = KeyOf(directory);
        if (!_madeDirectories.Contains(key))
        {
            _made.Add((Hold(directory, key), name, stage));
        }
    }

    /// <summary>Records that <paramref name="made"/> (an fd of the directory <paramref name="name"/> in <paramref name="directory"/>) was made by this copy.</summary>
    private void MadeDirectory(SafeFileHandle directory, string name, SafeFileHandle made, Stage? stage)
    {
        Made(directory, name, stage);
        _madeDirectories.Add(KeyOf(made));
    }

    /// <summary>
    /// Puts the entry made as <paramref name="temporary"/> in <paramref name="madeIn"/> (<paramref name="directory"/>
    /// or its stage) in place as <paramref name="name"/>: a new name, or, in place of an existing entry that is not a
    /// directory, exchanged with it (the old one kept as <paramref name="temporary"/>).
    /// </summary>
    private void PutInPlace(SafeFileHandle directory, SafeFileHandle madeIn, string temporary, string name, string display)
    {
        if (!ReferenceEquals(madeIn, directory))
        {
            PutInPlaceFromStage(directory, temporary, name, display);
            return;
        }

        fixed (byte* f = Z(temporary), t = Z(name))
        {
            if (Renameat2(directory, f, directory, t, RenameNoReplace) == 0)
            {
                Made(directory, name, null);
                return;
            }

            var errno = Marshal.GetLastPInvokeError();
            if (errno != Eexist)
            {
                throw Failed(errno, "put in place", display);
            }

            if (Renameat2(directory, f, directory, t, RenameExchange) != 0)
            {
                throw Failed(Marshal.GetLastPInvokeError(), "put in place", display);
            }

            if (IsDirectory(directory, temporary))
            {
                // A file does not take a directory's place (rename(2) refuses it too): the directory goes back.
                _ = Renameat2(directory, f, directory, t, RenameExchange);
                throw Failed(Errno.EISDIR, "put in place", display);
            }
        }

        _replaced.Add((Hold(directory, KeyOf(directory)), name, temporary, null));
    }

    /// <summary>Removes what the copy made and puts back what it replaced, newest first; null, or what could not be undone.</summary>
    private string? Undo(SafeFileHandle destinationRoot)
    {
        // What waits in a stage was never put in place: removing the stage removes it.
        _puts.Clear();
        var failures = new List<string>();
        foreach (var (directory, name, old, stage) in Enumerable.Reverse(_replaced))
        {
            if (stage is not null)
            {
                // Exchanged back: the entry put in place goes into the stage, which is emptied, whatever its type.
                if (_destinationNamespace!.Rename(stage.Parent, stage.Name + "/" + old, name, RenameExchange, CancellationToken.None) is var errno and not 0)
                {
                    failures.Add($"putting back '{name}': {Errno.Name(errno)}");
                }

                continue;
            }

            fixed (byte* f = Z(old), t = Z(name))
            {
                if (Renameat2(directory, f, directory, t, 0) != 0)
                {
                    failures.Add($"putting back '{name}': {Errno.Name(Marshal.GetLastPInvokeError())}");
                }
            }
        }

        if (_ownersGiven && _deferredDirectories.Count > 0)
        {
            try
            {
                // Some may belong to other users of the container by now: they come back to the caller, emptiable.
                _destinationNamespace!.Chown(destinationRoot, [.. _deferredDirectories.Select(path => (path, Caller.Uid, Caller.Gid, (uint?)0x1c0))], CancellationToken.None);
            }
            catch (Exception e) when (e is ContainersException or InvalidOperationException)
            {
                failures.Add($"giving its directories back to this user: {e.Message}");
            }
        }

        foreach (var (directory, name, stage) in Enumerable.Reverse(_made))
        {
            // Where the caller may not write, what was made goes back into the stage, which the caller empties.
            var errno = stage is null
                ? DirectoryTree.Remove(directory, System.Text.Encoding.UTF8.GetBytes(name))
                : _destinationNamespace!.Rename(stage.Parent, name, stage.Name + "/" + TemporaryName(name), RenameNoReplace, CancellationToken.None);
            if (errno != 0)
            {
                failures.Add($"'{name}': {Errno.Name(errno)}");
            }
        }

        if (RemoveStages() is { } stages)
        {
            failures.Add(stages);
        }

        return failures.Count == 0 ? null : string.Join(", ", failures);
    }

    /// <summary>A duplicate of the fd <paramref name="directory"/> this copy keeps until it is disposed (one per directory).</summary>
    private SafeFileHandle Hold(SafeFileHandle directory, (uint, uint, ulong) key)
    {
        if (!_directories.TryGetValue(key, out var held))
        {
            // A duplicate, not an open of ".": that would need the right to search the directory, which the caller
            // may lack where it makes entries through a stage.
            held = new SafeFileHandle(LibC.fcntl((int)directory.DangerousGetHandle(), LibC.F_DUPFD_CLOEXEC, 3), ownsHandle: true);
            if (held.IsInvalid)
            {
                var errno = Marshal.GetLastPInvokeError();
                held.Dispose();
                throw Failed(errno, "hold the directory of", ".");
            }

            _directories.Add(key, held);
        }

        return held;
    }

    private static (uint Major, uint Minor, ulong Ino) KeyOf(SafeFileHandle handle)
    {
        StatxBuffer stat;
        byte empty = 0;
        return Statx(handle, &empty, AtEmptyPath, StatxBuffer.BasicStats, &stat) == 0
            ? (stat.DevMajor, stat.DevMinor, stat.Ino)
            : throw Failed(Marshal.GetLastPInvokeError(), "read the metadata of", "a directory of the copy");
    }

    private static bool IsDirectory(SafeFileHandle directory, string name) => TypeOf(directory, name) == SIfDir;
}
