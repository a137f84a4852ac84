using System.Runtime.InteropServices;
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
    /// <summary>Renames from a stage into place one child does at most.</summary>
    private const int PutBatch = 256;

    /// <summary>Stages of the directories the caller may not write to, by the directory's device and inode.</summary>
    private readonly Dictionary<(uint Major, uint Minor, ulong Ino), Stage> _stages = [];

    /// <summary>Entries made in one stage that wait to be renamed into place, in order (see <see cref="FlushPuts"/>).</summary>
    private readonly List<Put> _puts = [];

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
    /// Puts <paramref name="temporary"/> from the stage of <paramref name="directory"/> in place as
    /// <paramref name="name"/> there: as a new name, or exchanged with an existing entry that is not a directory (the
    /// old one left in the stage under <paramref name="temporary"/> until the copy ends). The rename waits with the
    /// next ones for that stage, up to <see cref="PutBatch"/>, and one child renames them all (see <see cref="FlushPuts"/>).
    /// </summary>
    private void PutInPlaceFromStage(SafeFileHandle directory, string temporary, string name, string display)
    {
        var stage = _stages[KeyOf(directory)];
        if (_puts.Count > 0 && (_puts[0].Stage != stage || _puts.Exists(p => p.Name == name)))
        {
            // One child renames beneath one directory; and a second entry of one name replaces the first, once it is there.
            FlushPuts();
        }

        _puts.Add(new Put(stage, temporary, name, display));
        if (_puts.Count == PutBatch)
        {
            FlushPuts();
        }
    }

    /// <summary>
    /// Renames the entries waiting in a stage into place, in one child of the shim in the container's user
    /// namespace: <c>RENAME_NOREPLACE</c> for a name that is free, <c>RENAME_EXCHANGE</c> for one taken by a file or
    /// link (looked up by the caller, or, in a directory the caller may not search, opened in the namespace). The
    /// child stops at the first rename that fails; one that met a name the container made or removed meanwhile is
    /// retried the other way once, in the next child.
    /// </summary>
    /// <exception cref="ContainersIOException">An entry cannot be put in place, or would replace a directory (EISDIR).</exception>
    private void FlushPuts()
    {
        var retried = new HashSet<string>(StringComparer.Ordinal);
        while (_puts.Count > 0)
        {
            var stage = _puts[0].Stage;
            var types = TypesOf(stage, _puts);
            for (var i = 0; i < _puts.Count; i++)
            {
                if (types[i] == SIfDir)
                {
                    throw Failed(Errno.EISDIR, "put in place", _puts[i].Display);
                }
            }

            var (count, errno) = _destinationNamespace!.RenameEach(
                stage.Parent, [.. _puts.Select((p, i) => (stage.Name + "/" + p.Temporary, p.Name, types[i] == 0 ? RenameNoReplace : RenameExchange))], CancellationToken.None);
            var done = _puts[..count];
            _puts.RemoveRange(0, count);
            for (var i = 0; i < done.Count; i++)
            {
                if (types[i] == 0)
                {
                    Made(stage.Parent, done[i].Name, stage);
                }
                else
                {
                    _replaced.Add((stage.Parent, done[i].Name, done[i].Temporary, stage));
                }
            }

            if (done.FindIndex(p => IsDirectory(stage.Handle, p.Temporary)) is var replacedDirectory and >= 0)
            {
                // Made a directory since it was looked up: a file does not take its place (rename(2) refuses it too);
                // undoing the copy exchanges it back.
                throw Failed(Errno.EISDIR, "put in place", done[replacedDirectory].Display);
            }

            if (errno != 0 && (errno is not (Eexist or Errno.ENOENT) || !retried.Add(_puts[0].Temporary)))
            {
                throw Failed(errno, "put in place", _puts[0].Display);
            }
        }
    }

    /// <summary>
    /// The type (<c>S_IFMT</c> bits, 0 for none) of the entry each put would take the place of, in one directory:
    /// looked up by the caller, or where it may not search that directory, opened in the container's user namespace
    /// (one child for all of them).
    /// </summary>
    private uint[] TypesOf(Stage stage, List<Put> puts)
    {
        var types = new uint[puts.Count];
        var denied = new List<int>();
        for (var i = 0; i < puts.Count; i++)
        {
            if (TypeOf(stage.Parent, puts[i].Name) is { } type)
            {
                types[i] = type;
            }
            else if (Marshal.GetLastPInvokeError() == Errno.EACCES)
            {
                denied.Add(i);
            }
        }

        if (denied.Count > 0)
        {
            var opened = _destinationNamespace!.OpenEach(stage.Parent, [.. denied.Select(i => (puts[i].Name, puts[i].Display))], CancellationToken.None);
            for (var j = 0; j < denied.Count; j++)
            {
                using var handle = opened[j];
                types[denied[j]] = handle is null ? 0 : Stat(handle, puts[denied[j]].Display).Mode & SIfMt;
            }
        }

        return types;
    }

    /// <summary>
    /// Makes the directory <paramref name="name"/> in <paramref name="directory"/>, which the caller may not write
    /// to, through its stage: made there by the caller, opened, then renamed into place in the container's user
    /// namespace. Null when an entry of that name exists (nothing is left of the attempt).
    /// </summary>
    private SafeFileHandle? MakeDirectoryFromStage(SafeFileHandle directory, string name, string display)
    {
        if (_puts.Exists(p => p.Name == name))
        {
            FlushPuts();
        }

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

    /// <summary>
    /// A directory the caller may not write to (<paramref name="Parent"/>, an fd of it this copy holds), and
    /// the directory named <paramref name="Name"/> in it that the copy made there and fills (<paramref name="Handle"/>).
    /// </summary>
    private sealed record Stage(SafeFileHandle Parent, string Name, SafeFileHandle Handle);

    /// <summary>An entry made as <paramref name="Temporary"/> in <paramref name="Stage"/>, to be renamed into place as <paramref name="Name"/>.</summary>
    private sealed record Put(Stage Stage, string Temporary, string Name, string Display);
}
