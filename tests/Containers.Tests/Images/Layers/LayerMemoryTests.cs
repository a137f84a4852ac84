using System.Runtime.Versioning;
using System.Security.Cryptography;
using Containers.Images;
using Containers.Images.Snapshots;

namespace Containers.Tests.Images.Layers;

[CollectionDefinition(nameof(LayerMemoryTests), DisableParallelization = true)]
public sealed class LayerMemoryCollection;

/// <summary>Layer apply streams file contents: applying a large file allocates a small fraction of its size.</summary>
[SupportedOSPlatform("linux")]
[Collection(nameof(LayerMemoryTests))]
public sealed class LayerMemoryTests
{
    private const long FileSize = 256L << 20;

    [Fact]
    public async Task Applying_a_256_MiB_file_allocates_far_less_than_the_file()
    {
        using var fixture = new LayerFixture();
        Digest diffId;
        using (var hashing = new GeneratedTarStream(FileSize))
        {
            diffId = Digest.FromSha256Hash(await SHA256.HashDataAsync(hashing, TestContext.Current.CancellationToken));
        }

        long before = GC.GetTotalAllocatedBytes(precise: true);
        string snapshot = await fixture.Store.EnsureAsync(
            diffId, diffId, _ => Task.FromResult<Stream>(new GeneratedTarStream(FileSize)), LayerCompression.None, null, TestContext.Current.CancellationToken);
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;

        TestContext.Current.TestOutputHelper?.WriteLine($"allocated {allocated} bytes for a {FileSize}-byte file");
        Assert.Equal(FileSize, new FileInfo(Path.Combine(snapshot, "big")).Length);
        Assert.True(allocated < FileSize / 8, $"applying a {FileSize >> 20} MiB file allocated {allocated >> 20} MiB");
    }

    /// <summary>A tar with one file of <c>size</c> bytes, produced on the fly (never held in memory).</summary>
    private sealed class GeneratedTarStream : Stream
    {
        private readonly byte[] _header;
        private readonly long _length;
        private long _position;

        public GeneratedTarStream(long size)
        {
            _header = new RawTar().Entry("big", '0', data: null, sizeOverride: size).End(trailer: false);
            _length = 512 + size + 1024;
        }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => _length;

        public override long Position
        {
            get => _position;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            int count = (int)Math.Min(buffer.Length, _length - _position);
            for (int i = 0; i < count; i++)
            {
                long at = _position + i;
                if (at >= 512)
                {
                    buffer[i..count].Clear();
                    break;
                }

                buffer[i] = _header[at];
            }

            _position += count;
            return count;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
