using System.Runtime.InteropServices;
using System.Text;
using Containers.Linux;
using Microsoft.Win32.SafeHandles;
using static Containers.Linux.FileSystemCalls;

namespace Containers.Runtime;

/// <summary>
/// Without root, a directory of the container that only another of its users may write to (a home of uid 1000 under
/// a subordinate id, mode 0755) refuses the caller's new entries (<c>EACCES</c>). There the copy makes, once per such
/// directory, a <em>stage</em>: a hidden directory made in it by a child in the container's user namespace (whose
/// root is the caller, so the stage is the caller's, mode 0700) and sent back as an fd. Entries are made in the stage
/// by the caller as anywhere else, and only the renames that need the directory's write right run in the namespace
/// (<c>RENAME</c> with <c>RENAME_NOREPLACE</c> or <c>RENAME_EXCHANGE</c>, beneath an fd of the directory, no last
/// component followed). Undoing moves what was made back into the stage; the stage, emptied by the caller, is
/// removed there (<c>UNLINK</c>) whether the copy succeeds or not.
/// </summary>
internal sealed unsafe partial class ContainerCopy
{
    /// <summary>Stages of the directories the caller may not write to, by the directory's device and inode.</summary>
    private readonly Dictionary<(uint Major, uint Minor, ulong Ino), Stage> _stages = [];

    /// <summary>
    /// Makes a new entry in <paramref name="directory"/> with <paramref name="make"/> (0 or an errno); when the
    /// caller may not write there and the container's user namespace may, in that directory's stage instead.
    /// Returns the directory it was made in.
    /// </summary>
    private SafeFileHandle MakeNew(SafeFileHandle directory, string display, string operation, Func<SafeFileHandle, int> make)
    {
        var errno = make(directory);
        if (errno == Errno.EACCES && _destinationNamespace is not null)
        {
            var stage = StageOf(directory, display);
            if ((errno = make(stage.Handle)) == 0)
            {
                return stage.Handle;
            }
        }

        return errno == 0 ? directory : throw Failed(errno, operation, display);
    }

    /// <summary>The stage of <paramref name="directory"/>, made in the container's user namespace the first time it is asked for.</summary>
    private Stage StageOf(SafeFileHandle directory, string display)
    {
        var key = KeyOf(directory);
        if (!_stages.TryGetValue(key, out var stage))
        {
            var parent = Hold(directory, key);
            var name = $".cp-stage-{Guid.NewGuid().ToString("N")[..12]}";
            stage = new Stage(parent, name, _destinationNamespace!.MakeDirectory(parent, name, display, CancellationToken.None));
            _stages.Add(key, stage);
        }

        return stage;
    }

    /// <summary>
    /// Renames <paramref name="temporary"/> from the stage of <paramref name="directory"/> to <paramref name="name"/>
    /// there, in the container's user namespace: as a new name, or exchanged with an existing entry that is not a
    /// directory (the old one left in the stage under <paramref name="temporary"/> until the copy ends).
    /// </summary>
    private void PutInPlaceFromStage(SafeFileHandle directory, string temporary, string name, string display)
    {
        var stage = _stages[KeyOf(directory)];
        var from = stage.Name + "/" + temporary;
        var exists = Exists(directory, name);
        var errno = _destinationNamespace!.Rename(stage.Parent, from, name, exists ? RenameExchange : RenameNoReplace, CancellationToken.None);
        if (!exists && errno == Eexist)
        {
            exists = true;
            errno = _destinationNamespace.Rename(stage.Parent, from, name, RenameExchange, CancellationToken.None);
        }

        if (errno != 0)
        {
            throw Failed(errno, "put in place", display);
        }

        if (!exists)
        {
            Made(directory, name, stage);
            return;
        }

        if (IsDirectory(stage.Handle, temporary))
        {
            // A file does not take a directory's place (rename(2) refuses it too): the directory goes back.
            _ = _destinationNamespace.Rename(stage.Parent, from, name, RenameExchange, CancellationToken.None);
            throw Failed(Errno.EISDIR, "put in place", display);
        }

        _replaced.Add((stage.Parent, name, temporary, stage));
    }

    /// <summary>
    /// Makes the directory <paramref name="name"/> in <paramref name="directory"/>, which the caller may not write
    /// to, through its stage: made there by the caller, opened, then renamed into place in the container's user
    /// namespace. Null when an entry of that name exists (nothing is left of the attempt).
    /// </summary>
    private SafeFileHandle? MakeDirectoryFromStage(SafeFileHandle directory, string name, string display)
    {
        var stage = StageOf(directory, display);
        var temporary = TemporaryName(name);
        fixed (byte* p = Z(temporary))
        {
            if (Mkdirat(stage.Handle, p, 0x1c0) != 0)
            {
                throw Failed(Marshal.GetLastPInvokeError(), "create the directory", display);
            }
        }

        var made = OpenAt(stage.Handle, temporary, ORdOnly | ODirectory | ONoFollow | OCloExec, 0);
        var errno = made.IsInvalid ? Marshal.GetLastPInvokeError() : _destinationNamespace!.Rename(stage.Parent, stage.Name + "/" + temporary, name, RenameNoReplace, CancellationToken.None);
        if (errno == 0)
        {
            try
            {
                MadeDirectory(directory, name, made, stage);
                return made;
            }
            catch
            {
                made.Dispose();
                throw;
            }
        }

        made.Dispose();
        Unlink(stage.Handle, temporary, AtRemoveDir);
        return errno == Eexist ? null : throw Failed(errno, "create the directory", display);
    }

    /// <summary>Empties every stage (the caller's own directories) and removes it in the container's user namespace; null, or what could not be removed.</summary>
    private string? RemoveStages()
    {
        var failures = new List<string>();
        foreach (var stage in _stages.Values)
        {
            var names = new List<byte[]>();
            var errno = DirectoryTree.ListNames(stage.Handle, names);
            foreach (var name in names)
            {
                errno = errno != 0 ? errno : DirectoryTree.Remove(stage.Handle, name);
            }

            if (errno != 0 || (errno = _destinationNamespace!.Unlink(stage.Parent, stage.Name, isDirectory: true, CancellationToken.None)) != 0)
            {
                failures.Add($"the staging directory '{stage.Name}': {Errno.Name(errno)}");
            }

            stage.Handle.Dispose();
        }

        _stages.Clear();
        return failures.Count == 0 ? null : string.Join(", ", failures);
    }

    private static bool Exists(SafeFileHandle directory, string name)
    {
        StatxBuffer stat;
        fixed (byte* p = Encoding.UTF8.GetBytes(name + "\0"))
        {
            return Statx(directory, p, AtSymlinkNoFollow, StatxType, &stat) == 0;
        }
    }

    /// <summary>
    /// A directory the caller may not write to (<paramref name="Parent"/>, an <c>O_PATH</c> fd this copy holds), and
    /// the directory named <paramref name="Name"/> in it that the copy made there and fills (<paramref name="Handle"/>).
    /// </summary>
    private sealed record Stage(SafeFileHandle Parent, string Name, SafeFileHandle Handle);
}
