using System.Runtime.InteropServices;

namespace Containers.Linux;

/// <summary>The streaming compression and decompression calls of the system's libzstd (zstd.h).</summary>
internal static unsafe partial class LibZstd
{
    private const string Library = "libzstd.so.1";

    private static readonly Lazy<bool> Loaded = new(() => NativeLibrary.TryLoad(Library, out _));

    /// <summary>Whether libzstd.so.1 can be loaded on this machine.</summary>
    public static bool Available => Loaded.Value;

    /// <summary>ZSTD_inBuffer / ZSTD_outBuffer: a buffer and how far the library has consumed or filled it.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct Buffer
    {
        public byte* Data;
        public nuint Size;
        public nuint Position;
    }

    [LibraryImport(Library, EntryPoint = "ZSTD_createDStream")]
    public static partial nint CreateDStream();

    [LibraryImport(Library, EntryPoint = "ZSTD_freeDStream")]
    public static partial nuint FreeDStream(nint stream);

    [LibraryImport(Library, EntryPoint = "ZSTD_initDStream")]
    public static partial nuint InitDStream(nint stream);

    [LibraryImport(Library, EntryPoint = "ZSTD_decompressStream")]
    public static partial nuint DecompressStream(nint stream, Buffer* output, Buffer* input);

    [LibraryImport(Library, EntryPoint = "ZSTD_isError")]
    public static partial uint IsError(nuint code);

    [LibraryImport(Library, EntryPoint = "ZSTD_getErrorName")]
    public static partial nint GetErrorName(nuint code);

    /// <summary>ZSTD_c_compressionLevel.</summary>
    public const int CompressionLevelParameter = 100;

    /// <summary>ZSTD_c_nbWorkers: compression on that many threads of libzstd's own (0: on the caller's).</summary>
    public const int WorkersParameter = 400;

    /// <summary>ZSTD_e_continue, ZSTD_e_end.</summary>
    public const int Continue = 0;

    /// <inheritdoc cref="Continue"/>
    public const int End = 2;

    [LibraryImport(Library, EntryPoint = "ZSTD_createCCtx")]
    public static partial nint CreateCCtx();

    [LibraryImport(Library, EntryPoint = "ZSTD_freeCCtx")]
    public static partial nuint FreeCCtx(nint context);

    [LibraryImport(Library, EntryPoint = "ZSTD_CCtx_setParameter")]
    public static partial nuint SetParameter(nint context, int parameter, int value);

    [LibraryImport(Library, EntryPoint = "ZSTD_compressStream2")]
    public static partial nuint CompressStream2(nint context, Buffer* output, Buffer* input, int endOp);

    [LibraryImport(Library, EntryPoint = "ZSTD_CStreamOutSize")]
    public static partial nuint CStreamOutSize();
}
