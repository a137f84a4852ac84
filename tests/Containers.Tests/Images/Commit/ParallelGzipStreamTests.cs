using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Hashing;
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
    public void The_chunks_form_one_gzip_member_that_expands_to_the_input_and_both_digests_are_the_sha256_of_what_they_name(int length)
    {
        byte[] input = Input(length);
        using var output = new MemoryStream();
        (Digest Uncompressed, Digest Compressed) digests;
        using (var gzip = new ParallelGzipStream(output))
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
        Assert.Equal(input, Gunzip(compressed));
        Assert.Equal(Digest.FromSha256Hash(SHA256.HashData(input)), digests.Uncompressed);
        Assert.Equal(Digest.FromSha256Hash(SHA256.HashData(compressed)), digests.Compressed);

        // One member: one header at the start, and the trailer's CRC-32 and length are the whole input's (a file of
        // several members would end with its last member's, which covers only the last chunk).
        Assert.Equal([0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 3], compressed[..10]);
        Assert.Equal(Crc32.HashToUInt32(input), BinaryPrimitives.ReadUInt32LittleEndian(compressed.AsSpan(compressed.Length - 8)));
        Assert.Equal((uint)length, BinaryPrimitives.ReadUInt32LittleEndian(compressed.AsSpan(compressed.Length - 4)));
    }

    [Fact]
    public void The_same_input_written_in_other_pieces_gives_the_same_bytes()
    {
        byte[] input = Input((3 << 20) + 777);
        Assert.Equal(Compress(input, 1 << 20), Compress(input, 4096 + 3));
    }

    [Fact]
    public void A_failing_output_fails_the_write_or_the_completion_and_disposing_returns_every_buffer()
    {
        byte[] input = Input(9 << 20);
        var output = new FailingStream(failAfter: 2 << 20);
        var gzip = new ParallelGzipStream(output);
        var error = Assert.Throws<IOException>(() =>
        {
            gzip.Write(input);
            gzip.Complete();
        });
        Assert.Equal("disk full", error.Message);
        gzip.Dispose();
        Assert.Throws<ObjectDisposedException>(() => gzip.Write(input.AsSpan(0, 1)));
    }

    private static byte[] Compress(byte[] input, int piece)
    {
        using var output = new MemoryStream();
        using (var gzip = new ParallelGzipStream(output))
        {
            for (int offset = 0; offset < input.Length; offset += piece)
            {
                gzip.Write(input.AsSpan(offset, Math.Min(piece, input.Length - offset)));
            }

            gzip.Complete();
        }

        return output.ToArray();
    }

    private static byte[] Gunzip(byte[] compressed)
    {
        using var expanded = new MemoryStream();
        using (var reader = new GZipStream(new MemoryStream(compressed), CompressionMode.Decompress))
        {
            reader.CopyTo(expanded);
        }

        return expanded.ToArray();
    }

    /// <summary>Half compressible text, half noise, alternating per 1 MiB: chunks of both kinds (noise is stored, not deflated).</summary>
    private static byte[] Input(int length)
    {
        byte[] input = new byte[length];
        var random = new Random(length);
        for (int i = 0; i < input.Length; i++)
        {
            input[i] = i % (2 << 20) < (1 << 20) ? (byte)('a' + random.Next(4)) : (byte)random.Next(256);
        }

        return input;
    }

    private sealed class FailingStream(long failAfter) : MemoryStream
    {
        public override void Write(ReadOnlySpan<byte> buffer)
        {
            if (Length + buffer.Length > failAfter)
            {
                throw new IOException("disk full");
            }

            base.Write(buffer.ToArray(), 0, buffer.Length);
        }
    }
}
