namespace Containers.Images.Commit;

/// <summary>A write-only stream that compresses a layer's tar into a blob and hashes both sides on the way.</summary>
internal interface ILayerCompressor
{
    /// <summary>Bytes written into the stream (the uncompressed layer).</summary>
    long UncompressedLength { get; }

    /// <summary>Bytes written to the output (the compressed blob).</summary>
    long CompressedLength { get; }

    /// <summary>Writes what is left and the end of the stream; returns the sha256 of the input (the diff id) and of the output (the blob's digest).</summary>
    (Digest Uncompressed, Digest Compressed) Complete();
}
