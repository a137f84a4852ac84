using System.Text;
using Containers.Tests.Images.Layers;

namespace Containers.FuzzTests;

/// <summary>
/// Layer tars of random entries, ordinary and hostile (escaping names and links, devices, whiteouts, odd PAX
/// records, unsupported types, lying sizes and checksums), sometimes damaged byte-wise afterwards.
/// </summary>
internal static class LayerMutator
{
    private const string Escape = "../../../../../../../../../../tmp/containers-fuzz-escape";

    public static byte[] HostileTar(Random random, List<string> steps)
    {
        var tar = new RawTar();
        int entries = random.Next(1, 9);
        var kinds = new List<string>();
        for (int i = 0; i < entries; i++)
        {
            kinds.Add(AddEntry(tar, random, i));
        }

        steps.Add("layer entries: " + string.Join(", ", kinds));
        byte[] bytes = tar.End(trailer: random.Next(10) != 0);
        if (random.Next(4) == 0)
        {
            bytes = ByteMutator.Mutate(bytes, random, out string what);
            steps.Add("layer tar " + what);
        }

        return bytes;
    }

    private static string AddEntry(RawTar tar, Random random, int i)
    {
        byte[] data = Encoding.ASCII.GetBytes($"data {i}\n");
        switch (random.Next(30))
        {
            case 0: tar.Entry($"dir{i}/", '5', mode: "0000755"); return "dir";
            case 1: tar.Entry($"link{i}", '2', linkName: $"file{i - 1}"); return "symlink";
            case 2: tar.Entry($"out{i}", '2', linkName: Escape); return "symlink out (relative)";
            case 3: tar.Entry($"abs{i}", '2', linkName: "/tmp/containers-fuzz-escape"); return "symlink out (absolute)";
            case 4: tar.Entry($"hard{i}", '1', linkName: $"file{i - 1}"); return "hardlink";
            case 5: tar.Entry($"hardout{i}", '1', linkName: "/etc/passwd"); return "hardlink to /etc/passwd";
            case 6: tar.Entry(Escape, '0', data); return "name with ..";
            case 7: tar.Entry("/tmp/containers-fuzz-escape", '0', data); return "absolute name";
            case 8: tar.Entry($"ctl\u001b[2J\u0007{i}", '0', data); return "control characters in name";
            case 9: tar.Pax(("path", new string('p', 300) + i)).Entry("short", '0', data); return "pax long name";
            case 10: tar.Entry($"chr{i}", '3', devMajor: "0000001", devMinor: "0000003"); return "char device";
            case 11: tar.Entry($"blk{i}", '4', devMajor: "0000010", devMinor: "0000001"); return "block device";
            case 12: tar.Entry($"fifo{i}", '6'); return "fifo";
            case 13: tar.Entry($".wh.file{i - 1}", '0'); return "whiteout";
            case 14: tar.Entry($"dir{i}/.wh..wh..opq", '0'); return "opaque whiteout";
            case 15: tar.Entry($"esc{i}", '2', linkName: "/tmp").Entry($"esc{i}/containers-fuzz-escape", '0', data); return "file through a symlinked dir";
            case 16: tar.Pax(("size", "99999999999")).Entry($"paxsize{i}", '0', data); return "pax size lies";
            case 17: tar.Pax(("mtime", "1e999"), ("uid", "-5"), ("gid", "abc")).Entry($"paxnum{i}", '0', data); return "pax bad numbers";
            case 18: tar.Pax(("SCHILY.xattr.trusted.overlay.opaque", "y"), ("SCHILY.xattr.user.x", "v")).Entry($"xattr{i}", '0', data); return "pax xattrs";
            case 19: tar.Entry($"sparse{i}", 'S', new byte[512]); return "gnu sparse";
            case 20: tar.Entry("././@LongLink", 'L', new byte[512], sizeOverride: 0x7FFF_FFFF_FFL); return "gnu long name, huge size";
            case 21: tar.Entry($"unknown{i}", 'Z', data); return "unknown type";
            case 22: tar.Entry($"lie{i}", '0', data, sizeOverride: 1L << 40); return "size beyond the stream";
            case 23: tar.Entry($"sum{i}", '0', data, corruptChecksum: true); return "bad checksum";
            case 24: tar.Entry($"dup{i}", '0', data).Entry($"dup{i}", '5').Entry($"dup{i}/x", '0', data); return "file then dir with one name";
            case 25: tar.Entry($"suid{i}", '0', data, mode: "0004755"); return "setuid file";
            case 26: tar.Entry($"dir{i}/", '5').Entry($"dir{i}/../../..", '5'); return "dir named ..";
            case 27: tar.Pax(("linkpath", Escape)).Entry($"paxlink{i}", '2', linkName: "x"); return "pax link out";
            case 28: tar.Raw(RandomBlock(random)); return "random header block";
            default: tar.Entry($"file{i}", '0', data); return "file";
        }
    }

    private static byte[] RandomBlock(Random random)
    {
        byte[] block = new byte[512];
        random.NextBytes(block);
        return block;
    }
}
