using System.Text;
using Containers.Tests.Images.Layers;
using Containers.Tests.Images.Support;

namespace Containers.FuzzTests;

/// <summary>The outer archive of an oci-archive or docker-archive: sometimes with hostile extra members, sometimes gzip'd, sometimes damaged.</summary>
internal static class ArchiveMutator
{
    public static byte[] Build(List<KeyValuePair<string, byte[]>> files, Random random, List<string> steps)
    {
        var ordered = files.ToList();
        if (random.Next(4) == 0)
        {
            ordered.Reverse();
            steps.Add("archive members reversed");
        }

        byte[] archive = TestImage.Archive(ordered);
        if (random.Next(3) == 0)
        {
            var extra = new RawTar();
            int count = random.Next(1, 4);
            for (int i = 0; i < count; i++)
            {
                steps.Add("archive member: " + AddMember(extra, random, files));
            }

            archive = [.. WithoutTrailer(archive, out bool hadTrailer), .. extra.End(trailer: hadTrailer)];
        }

        if (random.Next(2) == 0)
        {
            archive = TestImage.GzipBytes(archive);
            steps.Add("archive gzip'd");
        }

        if (random.Next(8) == 0)
        {
            archive = ByteMutator.Mutate(archive, random, out string what);
            steps.Add("archive " + what);
        }

        return archive;
    }

    private static string AddMember(RawTar tar, Random random, List<KeyValuePair<string, byte[]>> files)
    {
        string existing = files[random.Next(files.Count)].Key;
        byte[] junk = Encoding.ASCII.GetBytes("{\"junk\":true}");
        switch (random.Next(14))
        {
            case 0: tar.Entry(existing, 'S', new byte[512]); return $"gnu sparse {existing}";
            case 1: tar.Entry("././@LongLink", 'L', new byte[512], sizeOverride: 0x7FFF_FFFF_FFL); return "gnu long name, huge size";
            case 2: tar.Entry(existing, '6'); return $"fifo {existing}";
            case 3: tar.Entry(existing, '2', linkName: "../../../../../../etc/passwd"); return $"{existing} symlink out";
            case 4: tar.Entry(existing, '1', linkName: "/etc/passwd"); return $"{existing} hardlink to /etc/passwd";
            case 5: tar.Entry(existing, '0', junk); return $"{existing} again with other content";
            case 6: tar.Entry("../containers-fuzz-escape", '0', junk); return "name with ..";
            case 7: tar.Entry($"ctl\u001b]0;x\u0007{existing}", '3'); return "control characters, char device";
            case 8: tar.Entry(existing, '2', linkName: existing); return $"{existing} links to itself";
            case 9: tar.Entry("a", '2', linkName: "b").Entry("b", '2', linkName: "a").Entry(existing, '2', linkName: "a"); return "symlink loop";
            case 10: tar.Entry(existing, '0', junk, sizeOverride: 1L << 40); return "size beyond the stream";
            case 11: tar.Pax(("path", new string('n', 5000))).Entry("x", '0', junk); return "pax long name";
            case 12: tar.Entry(existing, '5'); return $"{existing} as a directory";
            default: tar.Entry("vol", 'V'); return "volume header";
        }
    }

    private static byte[] WithoutTrailer(byte[] archive, out bool hadTrailer)
    {
        hadTrailer = archive.Length >= 1024 && archive.AsSpan(archive.Length - 1024).IndexOfAnyExcept((byte)0) < 0;
        return hadTrailer ? archive[..^1024] : archive;
    }
}
