using System.IO.Compression;
using System.Security.Cryptography;
using Containers.Images;
using Containers.Images.Commit;

namespace Containers.Tests.Images.Commit;

public sealed class ParallelGzipStreamTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData((1 << 20) - 1)]
    [InlineData(1 << 20)]
    [InlineData((7 << 20) + 12345)]
    public void Concatenated_members_expand_to_the_input_and_both_digests_are_the_sha256_of_what_they_name(int length)
    {
        byte[] input = new byte[length];
        var random = new Random(length);
        for (int i = 0; i < input.Length; i++)
        {
            // Half compressible text, half noise: members of both kinds.
            input[i] = i % (2 << 20) < (1 << 20) ? (byte)('a' + random.Next(4)) : (byte)random.Next(256);
        }

        using var output = new MemoryStream();
        (Digest Uncompressed, Digest Compressed) digests;
        using (var gzip = new ParallelGzipStream(output, CompressionLevel.Optimal))
        {
            for (int offset = 0; offset < input.Length; offset += 100_003)
            {
                gzip.Write(input.AsSpan(offset, Math.Min(100_003, input.Length - offset)));
            }

            digests = gzip.Complete();
            Assert.Equal(length, gzip.UncompressedLength);
            Assert.Equal(output.Length, gzip.CompressedLength);
        }

        byte[] compressed = output.ToArray();
        using var expanded = new MemoryStream();
        using (var reader = new GZipStream(new MemoryStream(compressed), CompressionMode.Decompress))
        {
            reader.CopyTo(expanded);
        }

        Assert.Equal(input, expanded.ToArray());
        Assert.Equal(Digest.FromSha256Hash(SHA256.HashData(input)), digests.Uncompressed);
        Assert.Equal(Digest.FromSha256Hash(SHA256.HashData(compressed)), digests.Compressed);
    }
}
