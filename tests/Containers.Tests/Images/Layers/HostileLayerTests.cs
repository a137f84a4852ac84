using System.Formats.Tar;
using TarEntry = System.Formats.Tar.TarEntry;
using TarEntryType = System.Formats.Tar.TarEntryType;
using System.IO.Compression;
using System.Runtime.Versioning;
using System.Text;
using Containers.Images;
using Containers.Images.Layers;
using Containers.Images.Snapshots;
using static Containers.Tests.Images.Layers.LayerFixture;

namespace Containers.Tests.Images.Layers;

/// <summary>
/// Hostile layers, re-derived from containerd's pkg/archive breakout tests (TestBreakouts) and moby's untar tests
/// (TestUntarInvalidFilenames, TestUntarInvalidHardlink, TestUntarInvalidSymlink), plus the malformed-archive
/// cases. Every case is either refused with <see cref="InvalidLayerException"/> (no snapshot, no temp dir left) or
/// applied with everything staying inside the snapshot. A victim directory beside the store must never change.
/// Each case runs against a rootless store and, as root, a root store: only there are devices made with mknodat,
/// owners set with fchown/fchownat, trusted.* xattrs written and modes the chown cleared set again with fchmodat.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class HostileLayerTests
{
    private static readonly Dictionary<string, HostileCase> Cases = BuildCases().ToDictionary(c => c.Name);

    public static TheoryData<string, bool> CaseNames =>
        new(Cases.Keys.Order(StringComparer.Ordinal).SelectMany(name => new[] { (name, true), (name, false) }));

    [Theory]
    [MemberData(nameof(CaseNames))]
    public async Task A_hostile_layer_is_refused_or_contained(string name, bool rootless)
    {
        Assert.SkipWhen(!rootless && !Environment.IsPrivilegedProcess, "a root store needs root (the test suite's unit pass runs as root)");
        // Built afresh: a case's entries carry data streams, which one apply reads to the end.
        var hostile = BuildCases().Single(c => c.Name == name);
        using var fixture = new LayerFixture(rootless);
        string victim = Path.Combine(fixture.Directory, "victim");
        Directory.CreateDirectory(victim);
        System.IO.File.WriteAllText(Path.Combine(victim, "hello"), "untouched");
        System.IO.File.SetUnixFileMode(Path.Combine(victim, "hello"), (UnixFileMode)0x100);
        byte[] tar = hostile.Tar(fixture.Directory);
        var diffId = hostile.DiffId ?? DiffId(tar);
        byte[] blob = hostile.Compression switch
        {
            LayerCompression.Gzip => Gzip(tar),
            LayerCompression.Zstd => Zstd(tar),
            _ => tar,
        };
        if (hostile.TruncateBlob)
        {
            blob = blob[..(blob.Length / 2)];
        }

        if (hostile.CorruptBlob)
        {
            blob[blob.Length / 2] ^= 0xFF;
            blob[(blob.Length / 2) + 1] ^= 0xFF;
        }

        var store = hostile.Options is null
            ? fixture.Store
            : new SnapshotStore(fixture.Store.Root, hostile.Options with { Rootless = rootless });

        Task<string> Apply() => store.EnsureAsync(
            SnapshotStore.ChainId(null, diffId), diffId, _ => Task.FromResult<Stream>(new MemoryStream(blob)),
            hostile.Compression, null, TestContext.Current.CancellationToken);

        if (hostile.Refusal is string refusal)
        {
            var error = await Assert.ThrowsAsync<InvalidLayerException>(Apply);
            Assert.Contains(refusal, error.Message, StringComparison.Ordinal);
            Assert.Empty(store.List());
            Assert.Equal(["tmp.lock"], Directory.EnumerateFileSystemEntries(store.Root).Select(Path.GetFileName));
        }
        else
        {
            string snapshot = await Apply();
            hostile.Validate?.Invoke(snapshot);
            hostile.ValidateInMode?.Invoke(snapshot, rootless);
        }

        Assert.Equal(["hello"], Directory.EnumerateFileSystemEntries(victim).Select(Path.GetFileName));
        Assert.Equal("untouched", System.IO.File.ReadAllText(Path.Combine(victim, "hello")));
        Assert.Equal((UnixFileMode)0x100, System.IO.File.GetUnixFileMode(Path.Combine(victim, "hello")));
        Assert.Equal($"{Environment.UserName}", Stat("%U", Path.Combine(victim, "hello")));
        Assert.Null(LayerApplyTests.Xattr(Path.Combine(victim, "hello"), "trusted.mark"));
    }

    private sealed record HostileCase(string Name, Func<string, byte[]> Tar, string? Refusal, Action<string>? Validate = null)
    {
        public LayerCompression Compression { get; init; } = LayerCompression.None;

        public Digest? DiffId { get; init; }

        public bool CorruptBlob { get; init; }

        public bool TruncateBlob { get; init; }

        public SnapshotStoreOptions? Options { get; init; }

        /// <summary>A check that depends on the store: a rootless one keeps no devices, owners or trusted.* xattrs.</summary>
        public Action<string, bool>? ValidateInMode { get; init; }
    }

    private static HostileCase Refused(string name, string reason, params TarEntry[] entries) =>
        new(name, _ => Tar(w => Write(w, entries)), reason);

    private static HostileCase Contained(string name, Action<string> validate, params TarEntry[] entries) =>
        new(name, _ => Tar(w => Write(w, entries)), null, validate);

    private static void Write(TarWriter writer, TarEntry[] entries)
    {
        foreach (var entry in entries)
        {
            writer.WriteEntry(entry);
        }
    }

    private static IEnumerable<HostileCase> BuildCases()
    {
        const string Symlinked = "symbolic link";
        const string DotDot = "'..'";
        var passwd = File("etc/passwd", "inside");

        // containerd TestBreakouts: writes through symbolic links are refused (containerd resolves them inside the
        // root instead; we never write through a link at all).
        yield return Refused("SymlinkAbsolute", Symlinked, Dir("etc"), Symlink("localetc", "/etc"), File("localetc/unbroken", "x"));
        yield return Refused("SymlinkUpAndOut", Symlinked, Dir("etc"), Dir("dummy"), Symlink("localetc", "/dummy/../etc"), File("localetc/unbroken", "x"));
        yield return Refused("SymlinkMultipleAbsolute", Symlinked, Dir("etc"), Dir("dummy"), Symlink("dummy/etc", "/etc"), Symlink("localetc", "/dummy/etc"), File("dummy/etc/unbroken", "x"));
        yield return Refused("SymlinkMultipleRelative", Symlinked, Dir("etc"), Dir("dummy"), Symlink("dummy/etc", "/etc"), Symlink("localetc", "./dummy/etc"), File("dummy/etc/unbroken", "x"));
        yield return Refused("SymlinkEmptyFile", Symlinked, Dir("etc"), File("etc/emptied", "notempty"), Symlink("localetc", "/etc"), File("localetc/emptied", string.Empty));
        yield return Refused("HardlinkRelative", Symlinked, Dir("etc"), passwd, Dir("breakouts"), Symlink("breakouts/d1", "../../etc"), HardLink("breakouts/mypasswd", "/breakouts/d1/passwd"));
        yield return Refused("HardlinkDownAndOut", Symlinked, Dir("etc"), File("etc/passwd", "inside"), Dir("breakouts"), Dir("downandout"), Symlink("breakouts/d1", "../downandout/../../etc"), HardLink("breakouts/mypasswd", "/breakouts/d1/passwd"));
        yield return Refused("HardlinkAbsolute", Symlinked, Dir("etc"), File("etc/passwd", "inside"), Symlink("localetc", "/etc"), HardLink("localpasswd", "/localetc/passwd"));
        yield return Refused("HardlinkRelativeLong", Symlinked, Dir("etc"), File("etc/passwd", "inside"), Symlink("localetc", "../../../../../../../etc"), HardLink("localpasswd", "/localetc/passwd"));
        yield return Refused("HardlinkRelativeUpAndOut", Symlinked, Dir("etc"), File("etc/passwd", "inside"), Symlink("localetc", "upandout/../../../etc"), HardLink("localpasswd", "/localetc/passwd"));
        yield return Refused("HardlinkDirectRelative", DotDot, Dir("etc"), File("etc/passwd", "inside"), HardLink("localpasswd", "../../../../../etc/passwd"));
        yield return Contained("HardlinkDirectAbsolute", root => AssertSameFile(root, "localpasswd", "etc/passwd"), Dir("etc"), File("etc/passwd", "inside"), HardLink("localpasswd", "/etc/passwd"));
        yield return Refused("SymlinkParentDirectory", DotDot, Dir("etc"), File("etc/passwd", "inside"), Symlink("..", "/etc/"), HardLink("localpasswd", "/etc/passwd"));
        yield return new HostileCase("SymlinkEmptyFilename", _ => new RawTar().Entry("etc/", '5', mode: "0000755").Entry(string.Empty, '2', linkName: "/etc/").End(), "empty name");
        yield return Refused("SymlinkParentRelative", DotDot, Dir("etc"), File("etc/passwd", "inside"), Symlink("localetc/sub/..", "/etc/"), HardLink("localetc/localpasswd", "/etc/passwd"));
        yield return Contained("SymlinkSlashEnded", root => AssertSameFile(root, "localetc/localpasswd", "etc/passwd"), Dir("etc"), File("etc/passwd", "inside"), Dir("localetc/"), HardLink("localetc/localpasswd", "/etc/passwd"));
        yield return Refused("WhiteoutRootParent", "whiteout of", File(".wh...", string.Empty));
        yield return Refused("WhiteoutParent", "whiteout of", Dir("etc"), File("etc/.wh...", string.Empty));
        yield return Refused("WhiteoutRoot", "whiteout of", File(".wh..", string.Empty));
        yield return Refused("WhiteoutCurrentDirectory", "whiteout of", Dir("etc"), File("etc/.wh..", string.Empty));
        yield return Contained("WhiteoutOfSymlinkInSameLayerKeepsTheLink", root => Assert.Equal("/etc", new FileInfo(Path.Combine(root, "localetc")).LinkTarget), Dir("etc"), File("etc/passwd", "all users"), Symlink("localetc", "/etc"), File(".wh.localetc", string.Empty));
        yield return Refused("WhiteoutSymlinkPath", Symlinked, Dir("etc"), File("etc/whitedout", "x"), Symlink("localetc", "/etc"), File("localetc/.wh.whitedout", string.Empty));
        yield return Contained("WhiteoutDirectoryName", root => Assert.Equal("non-empty", System.IO.File.ReadAllText(Path.Combine(root, ".wh.etc/somefile"))), File(".wh.etc/somefile", "non-empty"));
        yield return Refused("WhiteoutDeadSymlinkParent", Symlinked, Symlink("localetc", "/dne"), File("localetc/.wh.etc", string.Empty));
        yield return Refused("WhiteoutRelativePath", DotDot, File("dne/../.wh.etc", string.Empty));
        yield return Contained("HardlinkSymlinkBeforeCreateTarget", root =>
        {
            Assert.Equal("/etc/passwd", new FileInfo(Path.Combine(root, "localpasswd-dup")).LinkTarget);
            AssertSameFile(root, "localpasswd-dup", "localpasswd");
            Assert.Equal("after", System.IO.File.ReadAllText(Path.Combine(root, "etc/passwd")));
        }, Dir("etc"), Symlink("localpasswd", "/etc/passwd"), HardLink("localpasswd-dup", "localpasswd"), File("etc/passwd", "after"));
        yield return Contained("HardlinkSymlinkRelative", root =>
        {
            Assert.Equal("../../../../../etc/passwd", new FileInfo(Path.Combine(root, "localpasswd")).LinkTarget);
            AssertSameFile(root, "localpasswd", "passwdlink");
        }, Dir("etc"), File("etc/passwd", "inside"), Symlink("passwdlink", "../../../../../etc/passwd"), HardLink("localpasswd", "/passwdlink"));
        yield return new HostileCase("HardlinkSymlinkChmod", dir =>
        {
            string outside = Path.Combine(dir, "victim", "hello");
            string alsoOutside = Path.Combine(dir, "victim", "also-exists-outside-root");
            return Tar(w => Write(w, [Symlink(alsoOutside, outside), HardLink("sketchylink", alsoOutside)]));
        }, null, root => Assert.True(new FileInfo(Path.Combine(root, "sketchylink")).LinkTarget is not null));

        // moby TestUntarInvalidFilenames / TestUntarInvalidHardlink / TestUntarInvalidSymlink.
        yield return Refused("MobyDotDotName", DotDot, File("../victim/dotdot", "x"));
        yield return Refused("MobyDeepDotDotName", DotDot, File(string.Concat(Enumerable.Repeat("../", 23)) + "victim/dotdot", "x"));
        yield return Refused("MobyHardlinkDotDot", DotDot, HardLink("dotdot", "../victim/hello"));
        yield return Refused("MobyHardlinkRoot", DotDot, HardLink("dotdot", "../../.."));
        yield return Refused("MobyHardlinkToDirectoryOutside", DotDot, HardLink("loophole-victim", "../victim"), File("loophole-victim/file", "x"));
        yield return Refused("MobySymlinkThenWrite", Symlinked, Symlink("loophole-victim", "../victim"), File("loophole-victim/file", "x"));
        yield return Refused("MobyHardlinkToSymlinkThenWrite", Symlinked, Symlink("symlink", "../victim"), HardLink("hardlink", "symlink"), File("hardlink/file", "x"));
        yield return Contained("MobySymlinkTargetOutsideIsKeptAsData", root =>
            Assert.Equal("../victim/hello", new FileInfo(Path.Combine(root, "dotdot")).LinkTarget), Symlink("dotdot", "../victim/hello"));
        yield return Refused("MobySymlinkThenHardlinkThroughIt", Symlinked, Symlink("symlink", "../victim"), HardLink("hardlink", "symlink/hello"));

        // Names and entry types.
        yield return Contained("AbsoluteNamesAreTakenRelativeToTheRoot", root =>
            Assert.Equal("abs", System.IO.File.ReadAllText(Path.Combine(root, "etc/abs"))), File("/etc/abs", "abs"));
        yield return Refused("FileNamedDot", "snapshot root", File(".", "x"));
        yield return Refused("FileNamedSlash", "snapshot root", File("/", "x"));
        yield return Contained("DirectoryNamedDotSetsTheRootMetadata", root =>
            Assert.Equal((UnixFileMode)0x1E8, System.IO.File.GetUnixFileMode(root)), Dir("./", (UnixFileMode)0x1E8));
        yield return Refused("HardlinkToItself", "itself", HardLink("self", "self"));
        yield return Refused("HardlinkToMissingTarget", "does not exist", HardLink("link", "missing"));
        yield return Refused("HardlinkToDirectory", "directory", Dir("d"), HardLink("link", "d"));
        yield return Refused("FileBelowAFile", "not a directory", File("etc", "x"), File("etc/passwd", "x"));
        yield return new HostileCase("PaxPathWithDotDot", _ => new RawTar().Pax(("path", "a/../../escape")).Entry("ok", '0', [1]).End(), DotDot);
        yield return new HostileCase("PaxLinkpathWithDotDot", _ => new RawTar().Entry("f", '0', [1]).Pax(("linkpath", "../f")).Entry("l", '1').End(), DotDot);
        yield return new HostileCase("GnuLongNameWithDotDot", _ => Tar(w => w.WriteEntry(new GnuTarEntry(TarEntryType.RegularFile, string.Concat(Enumerable.Repeat("a/", 60)) + string.Concat(Enumerable.Repeat("../", 70)) + "escape")), TarEntryFormat.Gnu), DotDot);
        yield return Refused("TrustedOverlayXattr", "overlayfs metadata", Xattr(Dir("d"), "trusted.overlay.opaque", "y"));
        yield return Refused("UserOverlayXattr", "overlayfs metadata", Xattr(File("f", "x"), "user.overlay.redirect", "/etc"));
        yield return Refused("RootlessOwnerXattr", "rootless stores", Xattr(File("f", "x"), "user.rootlesscontainers", "\u0008\u0001"));

        // Devices, owners and trusted.* xattrs: written as such only by a root store.
        yield return Refused("DeviceThroughASymlink", Symlinked, Dir("dev"), Symlink("localdev", "/dev"), Device("localdev/evil", 1, 3));
        yield return new HostileCase("DeviceOwnedByAnotherUserWithSetuid", _ => Tar(w => w.WriteEntry(Owned(Device("dev/node", 5, 0, (UnixFileMode)0x9ED), 1234))), null)
        {
            // chown clears set-uid; the mode is set again afterwards (fchmodat2 on the O_PATH node).
            ValidateInMode = (root, rootless) => Assert.Equal(
                rootless ? $"regular empty file 0:0 {Euid} 4755" : "character special file 5:0 1234 4755",
                Stat("%F %t:%T %u %a", Path.Combine(root, "dev/node"))),
        };
        yield return new HostileCase("FifoOwnedByAnotherUser", _ => Tar(w => w.WriteEntry(Owned(new PaxTarEntry(TarEntryType.Fifo, "fifo") { Mode = (UnixFileMode)0x1B6 }, 1234))), null)
        {
            ValidateInMode = (root, rootless) => Assert.Equal(
                rootless ? $"fifo {Euid} 666" : "fifo 1234 666", Stat("%F %u %a", Path.Combine(root, "fifo"))),
        };
        yield return new HostileCase("SymlinkOwnedByAnotherUserPointingOutside", dir =>
            Tar(w => w.WriteEntry(Owned(Symlink("link", Path.Combine(dir, "victim", "hello")), 1234))), null)
        {
            // fchownat with AT_SYMLINK_NOFOLLOW: the link changes owner, the victim it points to does not.
            ValidateInMode = (root, rootless) => Assert.Equal(
                rootless ? $"symbolic link {Euid}" : "symbolic link 1234", Stat("%F %u", Path.Combine(root, "link"))),
        };
        yield return new HostileCase("TrustedXattrsOnAFileADeviceAndASymlinkToTheVictim", dir => Tar(w =>
        {
            w.WriteEntry(Xattr(File("file", "x"), "trusted.mark", "1"));
            w.WriteEntry(Xattr(Device("device", 1, 3), "trusted.mark", "1"));
            w.WriteEntry(Xattr(Symlink("link", Path.Combine(dir, "victim", "hello")), "trusted.mark", "1"));
        }), null)
        {
            ValidateInMode = (root, rootless) =>
            {
                foreach (var name in new[] { "file", "device", "link" })
                {
                    Assert.Equal(rootless ? null : "1"u8.ToArray(), LayerApplyTests.Xattr(Path.Combine(root, name), "trusted.mark"));
                }
            },
        };

        // Malformed archives.
        yield return new HostileCase("DeviceMajorOutOfRange", _ => new RawTar().Entry("dev/big", '3', devMajor: "0010000").End(), "out of range");
        yield return new HostileCase("DeviceMinorOutOfRange", _ => new RawTar().Entry("dev/big", '4', devMinor: "7777777").End(), "out of range");
        yield return new HostileCase("SizeLongerThanTheData", _ => new RawTar().Entry("f", '0', new byte[10], sizeOverride: 4096).End(trailer: false), "truncated");
        yield return new HostileCase("TruncatedHeader", _ => new RawTar().Entry("f", '0', new byte[10]).Raw(new byte[100]).End(trailer: false), "truncated");
        yield return new HostileCase("BadChecksum", _ => new RawTar().Entry("f", '0', new byte[10], corruptChecksum: true).End(), "checksum");
        yield return new HostileCase("SparseFile", _ => new RawTar().Entry("f", 'S', new byte[10]).End(), "unsupported tar entry type 'S'");
        yield return new HostileCase("SparsePaxFile", _ => new RawTar().Pax(("GNU.sparse.major", "1")).Entry("f", '0', new byte[10]).End(), "sparse");
        yield return new HostileCase("NulInPaxPath", _ => new RawTar().Pax(("path", "a\0b")).Entry("f", '0', new byte[1]).End(), "NUL");
        yield return new HostileCase("DiffIdMismatch", _ => Tar(w => w.WriteEntry(File("f", "x"))), "diff id mismatch")
        {
            DiffId = Digest.Sha256("something else"u8),
        };
        yield return new HostileCase("GzipCorrupt", _ => Tar(w => w.WriteEntry(File("f", new string('x', 10000)))), "corrupt")
        {
            Compression = LayerCompression.Gzip,
            CorruptBlob = true,
        };
        yield return new HostileCase("ZstdTruncated", _ => Tar(w => w.WriteEntry(File("f", string.Concat(Enumerable.Range(0, 20000).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)))))), "truncated")
        {
            Compression = LayerCompression.Zstd,
            TruncateBlob = true,
        };
        yield return new HostileCase("GzipTruncated", _ => Tar(w => w.WriteEntry(File("f", string.Concat(Enumerable.Range(0, 20000).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)))))), "truncated")
        {
            Compression = LayerCompression.Gzip,
            TruncateBlob = true,
        };
        yield return new HostileCase("DecompressionBomb", _ => Tar(w => w.WriteEntry(File("zeros", new string('\0', 4 << 20)))), "decompression bomb")
        {
            Compression = LayerCompression.Gzip,
            Options = new SnapshotStoreOptions { Rootless = true, MaxCompressionRatio = 20, RatioCheckThreshold = 1 << 20 },
        };
        yield return new HostileCase("LayerLargerThanTheQuota", _ => Tar(w => w.WriteEntry(File("big", new string('x', 2 << 20)))), "MaxLayerSize")
        {
            Options = new SnapshotStoreOptions { Rootless = true, MaxLayerSize = 1 << 20 },
        };
    }

    private static PaxTarEntry Xattr(PaxTarEntry entry, string name, string value)
    {
        var records = new Dictionary<string, string>(entry.ExtendedAttributes) { ["SCHILY.xattr." + name] = value };
        var copy = new PaxTarEntry(entry.EntryType, entry.Name, records) { Mode = entry.Mode };
        if (entry.EntryType is TarEntryType.SymbolicLink or TarEntryType.HardLink)
        {
            copy.LinkName = entry.LinkName;
        }

        if (entry.EntryType is TarEntryType.CharacterDevice or TarEntryType.BlockDevice)
        {
            copy.DeviceMajor = entry.DeviceMajor;
            copy.DeviceMinor = entry.DeviceMinor;
        }

        if (entry.DataStream is not null)
        {
            copy.DataStream = entry.DataStream;
        }

        return copy;
    }

    private static uint Euid => Containers.Linux.LibC.geteuid();

    private static PaxTarEntry Device(string name, int major, int minor, UnixFileMode mode = (UnixFileMode)0x1B6) =>
        new(TarEntryType.CharacterDevice, name) { DeviceMajor = major, DeviceMinor = minor, Mode = mode };

    private static PaxTarEntry Owned(PaxTarEntry entry, int id)
    {
        entry.Uid = id;
        entry.Gid = id;
        return entry;
    }

    private static string Stat(string format, string path)
    {
        using var process = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("stat", ["-c", format, path]) { RedirectStandardOutput = true })!;
        string output = process.StandardOutput.ReadToEnd().Trim();
        process.WaitForExit();
        Assert.Equal(0, process.ExitCode);
        return output;
    }

    private static void AssertSameFile(string root, string a, string b)
    {
        Assert.Equal(Inode(Path.Combine(root, a)), Inode(Path.Combine(root, b)));
    }

    private static string Inode(string path)
    {
        using var process = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("stat", ["-c", "%d:%i", path]) { RedirectStandardOutput = true })!;
        string output = process.StandardOutput.ReadToEnd().Trim();
        process.WaitForExit();
        Assert.Equal(0, process.ExitCode);
        return output;
    }
}
