using System.Formats.Tar;
using System.Runtime.InteropServices;
using Containers.Linux;
using Microsoft.Win32.SafeHandles;
using static Containers.Linux.FileSystemCalls;

namespace Containers.Runtime;

/// <summary>
/// Copies as tar streams (<c>docker cp</c> with <c>-</c>): a path of the container written as an archive whose top
/// entry is the path's last name, and an archive extracted into a directory of the container. Extraction resolves
/// every entry's parent beneath the destination directory (<c>openat2(RESOLVE_IN_ROOT)</c> with the destination as
/// root), so neither <c>..</c> nor a link the archive made earlier leads an entry out of it.
/// </summary>
internal sealed unsafe partial class ContainerCopy
{
    private const int AtSymlinkFollow = 0x400;

    /// <summary>
    /// Writes <paramref name="sourcePath"/> of <paramref name="sourceRoot"/> (a file, a directory recursively, or a
    /// link as a link) to <paramref name="output"/> as a POSIX (pax) tar stream, owners as <paramref name="ids"/>
    /// gives them from the ids seen here.
    /// </summary>
    public void WriteArchive(SafeFileHandle sourceRoot, string sourcePath, Stream output, Func<uint, uint, (uint Uid, uint Gid)> ids, CancellationToken cancellationToken)
    {
        using var source = OpenSource(sourceRoot, sourcePath, out var stat);
        using var writer = new TarWriter(output, TarEntryFormat.Pax, leaveOpen: true);
        WriteEntry(writer, source, stat, LastName(sourcePath) ?? ".", ids, cancellationToken);
    }

    private void WriteEntry(TarWriter writer, SafeFileHandle source, StatxBuffer stat, string name, Func<uint, uint, (uint Uid, uint Gid)> ids, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        TarEntryType? type = (stat.Mode & SIfMt) switch
        {
            SIfReg => TarEntryType.RegularFile,
            SIfDir => TarEntryType.Directory,
            SIfLnk => TarEntryType.SymbolicLink,
            _ => null,
        };
        if (type is not { } entryType)
        {
            Skipped++;
            return;
        }

        var (uid, gid) = ids(stat.Uid, stat.Gid);
        var entry = new PaxTarEntry(entryType, entryType == TarEntryType.Directory ? name + "/" : name)
        {
            Mode = (UnixFileMode)(stat.Mode & 0xfffu),
            ModificationTime = DateTimeOffset.FromUnixTimeSeconds(stat.MtimeSeconds).AddTicks(stat.MtimeNanoseconds / 100),
            Uid = (int)uid,
            Gid = (int)gid,
        };
        switch (entryType)
        {
            case TarEntryType.SymbolicLink:
                entry.LinkName = ReadLink(source, name);
                writer.WriteEntry(entry);
                break;
            case TarEntryType.RegularFile:
                using (var content = new FileStream(new SafeFileHandle(source.DangerousGetHandle(), ownsHandle: false), FileAccess.Read, bufferSize: 0))
                {
                    // A file that grows while it is read must not write more than its header says.
                    entry.DataStream = new LimitedStream(content, stat.Size);
                    writer.WriteEntry(entry);
                }

                break;
            default:
                writer.WriteEntry(entry);
                foreach (var (child, opened, childStat) in Children(source, name, cancellationToken))
                {
                    WriteEntry(writer, opened, childStat, name + "/" + child, ids, cancellationToken);
                }

                break;
        }
    }

    /// <summary>
    /// Extracts the tar stream <paramref name="input"/> into the directory <paramref name="destinationPath"/> of
    /// <paramref name="destinationRoot"/> (resolved in it): files, directories, links and hard links, with their
    /// modes and times; owners as the copy's owner rule gives them from the archive's ids. Devices, fifos and
    /// sockets are not made (<see cref="Skipped"/>). All or nothing, as <see cref="Copy"/>.
    /// </summary>
    public void ExtractArchive(Stream input, SafeFileHandle destinationRoot, string destinationPath, CancellationToken cancellationToken)
    {
        using var destination = OpenDirectory(destinationRoot, destinationPath, destinationPath)
            ?? throw Failed(Marshal.GetLastPInvokeError(), "open the directory", destinationPath);
        AllOrNothing(destinationRoot, () => Extract(input, destination, destinationPath, cancellationToken), cancellationToken);
    }

    private void Extract(Stream input, SafeFileHandle destination, string destinationPath, CancellationToken cancellationToken)
    {
        var directories = new List<(string Path, TarEntry Entry)>();
        using var reader = new TarReader(input, leaveOpen: true);
        while (reader.GetNextEntry() is { } entry)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (EntryPath(entry.Name) is not { } relative)
            {
                continue;
            }

            var display = destinationPath.TrimEnd('/') + "/" + relative;
            var slash = relative.LastIndexOf('/');
            var name = relative[(slash + 1)..];
            if (slash >= 0)
            {
                // Its parent may be an entry still waiting in a stage.
                FlushPuts();
            }

            using var opened = slash < 0 ? null : OpenDirectory(destination, relative[..slash], display)
                ?? throw Failed(Marshal.GetLastPInvokeError(), "open the directory of", display);
            var parent = opened ?? destination;
            var (uid, gid, mode) = ((uint)entry.Uid, (uint)entry.Gid, (uint)entry.Mode & 0xfffu);
            var time = entry.ModificationTime;
            if (entry.EntryType is TarEntryType.Directory or TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile or TarEntryType.SymbolicLink)
            {
                // Checked before the entry is made: an owner that cannot be kept leaves nothing behind for it.
                _ = OwnerOf(uid, gid, display);
            }

            switch (entry.EntryType)
            {
                case TarEntryType.Directory:
                    using (MakeDirectory(parent, name, display))
                    {
                        directories.Add((relative, entry));
                    }

                    break;
                case TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile:
                    MakeFile(entry.DataStream, uid, gid, mode, time.ToUnixTimeSeconds(), (uint)(time.Ticks % TimeSpan.TicksPerSecond * 100), parent, name, display);
                    break;
                case TarEntryType.SymbolicLink:
                    MakeLink(entry.LinkName, uid, gid, parent, name, display);
                    break;
                case TarEntryType.HardLink:
                    MakeHardLink(destination, EntryPath(entry.LinkName) ?? ".", parent, name, display);
                    break;
                default:
                    Skipped++;
                    break;
            }
        }

        // Last, deepest first: a directory made read-only is still filled first.
        FlushPuts();
        foreach (var (path, entry) in Enumerable.Reverse(directories))
        {
            using var directory = OpenDirectory(destination, path, destinationPath.TrimEnd('/') + "/" + path, follow: false)
                ?? throw Failed(Marshal.GetLastPInvokeError(), "open the directory", destinationPath.TrimEnd('/') + "/" + path);
            var time = entry.ModificationTime;
            SetAttributes(directory, (uint)entry.Uid, (uint)entry.Gid, (uint)entry.Mode & 0xfffu, time.ToUnixTimeSeconds(), (uint)(time.Ticks % TimeSpan.TicksPerSecond * 100), destinationPath.TrimEnd('/') + "/" + path, directory: true);
        }
    }

    /// <summary>A hard link to an entry the archive made before (resolved beneath the destination), through its fd: the link never leaves the destination.</summary>
    private void MakeHardLink(SafeFileHandle destination, string target, SafeFileHandle directory, string name, string display)
    {
        FlushPuts();
        using var existing = TryOpenInRoot(destination, target, OPath | ONoFollow)
            ?? throw Failed(Marshal.GetLastPInvokeError(), $"find the target '{target}' of the hard link", display);
        var temporary = TemporaryName(name);
        SafeFileHandle madeIn;
        fixed (byte* from = Z($"/proc/self/fd/{existing.DangerousGetHandle().ToInt32()}"), to = Z(temporary))
        {
            var (fromAddress, toAddress) = ((nint)from, (nint)to);
            madeIn = MakeNew(directory, display, "create the hard link", where =>
                Linkat(new SafeFileHandle(AtFdCwd, ownsHandle: false), (byte*)fromAddress, where, (byte*)toAddress, AtSymlinkFollow) == 0 ? 0 : Marshal.GetLastPInvokeError());
        }

        try
        {
            PutInPlace(directory, madeIn, temporary, name, display);
        }
        catch
        {
            Unlink(madeIn, temporary, 0);
            throw;
        }
    }

    /// <summary>An entry's name relative to the destination (<c>./</c> and leading slashes dropped); null for the archive's root; <c>..</c> is refused.</summary>
    private static string? EntryPath(string name)
    {
        var parts = name.Split('/', StringSplitOptions.RemoveEmptyEntries).Where(p => p != ".").ToArray();
        if (parts.Contains(".."))
        {
            throw new ContainersIOException($"the archive's entry '{name}' climbs out of the destination with '..': it is not extracted", name, null);
        }

        return parts.Length == 0 ? null : string.Join('/', parts);
    }

    /// <summary>At most <c>length</c> bytes of a stream, then its end.</summary>
    private sealed class LimitedStream(Stream inner, ulong length) : Stream
    {
        private readonly ulong _length = length;
        private ulong _left = length;

        public override bool CanRead => true;

        public override bool CanSeek => true;

        public override bool CanWrite => false;

        public override long Length => (long)_length;

        public override long Position
        {
            get => (long)(_length - _left);
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var read = inner.Read(buffer[..(int)Math.Min((ulong)buffer.Length, _left)]);
            if (read == 0 && _left > 0)
            {
                throw new IOException($"the file shrank while it was copied ({_left} bytes short)");
            }

            _left -= (ulong)read;
            return read;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
